"""Disk elements written from libvirt's documented format (formatdomain, domaincommon.rng)."""

from __future__ import annotations

UUID1 = "5d5b3a8e-0000-4000-8000-000000000001"

FILE_QCOW2 = (
    "<disk type='file' device='disk' model='virtio-non-transitional' snapshot='external'>"
    "<driver name='qemu' type='qcow2' cache='none' error_policy='stop' rerror_policy='report' io='native'"
    " ioeventfd='on' event_idx='off' copy_on_read='on' discard='unmap' detect_zeroes='unmap' iothread='1'>"
    "<metadata_cache><max_size unit='bytes'>1024</max_size></metadata_cache></driver>"
    "<source file='/var/lib/libvirt/images/vm.qcow2' startupPolicy='optional' index='1'>"
    "<seclabel model='selinux' relabel='no'/></source>"
    "<backingStore type='file' index='2'><format type='qcow2'/><source file='/var/lib/libvirt/images/base.qcow2'/>"
    "<backingStore type='block' index='3'><format type='raw'/><source dev='/dev/vg/base0'/><backingStore/>"
    "</backingStore></backingStore>"
    "<target dev='vda' bus='virtio'/>"
    "<iotune><total_bytes_sec>10000000</total_bytes_sec><read_iops_sec>400</read_iops_sec>"
    "<write_iops_sec>100</write_iops_sec><total_bytes_sec_max>20000000</total_bytes_sec_max>"
    "<size_iops_sec>4096</size_iops_sec><group_name>grp1</group_name>"
    "<total_bytes_sec_max_length>10</total_bytes_sec_max_length></iotune>"
    "<serial>WD-WMAP9A966149</serial>"
    f"<boot order='1'/><alias name='ua-{UUID1}'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>"
    "</disk>"
)

BLOCK_LUN = (
    "<disk type='block' device='lun' rawio='yes' sgio='unfiltered'>"
    "<driver name='qemu' type='raw' cache='directsync' io='threads'/>"
    "<source dev='/dev/disk/by-id/scsi-3600a0b80005adb0b0000ab2d4cae9254'>"
    "<reservations managed='no'><source type='unix' path='/var/lib/libvirt/pr.sock' mode='client'/></reservations>"
    "</source>"
    "<target dev='sdb' bus='scsi' rotation_rate='7200'/><shareable/>"
    "<wwn>5000c50015ea71ad</wwn><vendor>VENDOR</vendor><product>PRODUCT 123</product>"
    "<address type='drive' controller='0' bus='0' target='3' unit='0'/>"
    "</disk>"
)

NETWORK_RBD = (
    "<disk type='network' device='disk'>"
    "<driver name='qemu' type='raw' discard='ignore' error_policy='enospace'/>"
    "<source protocol='rbd' name='pool/image'>"
    "<host name='mon1.example.org' port='6789'/><host name='10.0.0.2' port='6789'/>"
    "<snapshot name='snap1'/><config file='/etc/ceph/ceph.conf'/>"
    "<auth username='admin'><secret type='ceph' uuid='4a4f8a4e-0000-4000-8000-00000000000c'/></auth>"
    "</source>"
    "<target dev='vdb' bus='virtio'/>"
    "<address type='ccw' cssid='0xfe' ssid='0x0' devno='0x0002'/>"
    "</disk>"
)

NETWORK_ISCSI = (
    "<disk type='network' device='lun'>"
    "<driver name='qemu' type='raw'/>"
    "<source protocol='iscsi' name='iqn.2013-07.com.example:iscsi-nopool/2'>"
    "<host name='example.com' port='3260'/>"
    "<initiator><iqn name='iqn.2013-07.com.example:client'/></initiator>"
    "<auth username='myuser'><secret type='iscsi' usage='libvirtiscsi'/></auth>"
    "</source>"
    "<target dev='sdc' bus='scsi'/>"
    "<address type='drive' controller='0' bus='0' target='0' unit='2'/>"
    "</disk>"
)

NETWORK_NBD = (
    "<disk type='network'>"
    "<driver name='qemu' type='raw'/>"
    "<source protocol='nbd' name='export' tls='yes' tlsHostname='nbd.example.org'>"
    "<host transport='unix' socket='/var/run/nbdsock'/></source>"
    "<target dev='vdc' bus='virtio'/>"
    "</disk>"
)

NETWORK_GLUSTER = (
    "<disk type='network' device='disk'>"
    "<driver name='qemu' type='qcow2' queues='4' queue_size='256' iommu='on' ats='on' packed='on' page_per_vq='on'/>"
    "<source protocol='gluster' name='Volume/Image.qcow2'>"
    "<host name='gluster1.example.org' port='24007' transport='tcp'/>"
    "<host name='gluster2.example.org' transport='rdma'/></source>"
    "<target dev='vdd' bus='virtio'/>"
    "<address type='virtio-mmio'/>"
    "</disk>"
)

NETWORK_HTTP = (
    "<disk type='network' device='cdrom'>"
    "<driver name='qemu' type='raw'/>"
    "<source protocol='http' name='/path/to/image.iso' query='foo=bar'>"
    "<host name='mirror.example.org' port='80'/>"
    "<cookies><cookie name='session'>abcd</cookie></cookies>"
    "<readahead size='65536'/><timeout seconds='10'/></source>"
    "<target dev='hdd' bus='ide' tray='closed'/><readonly/>"
    "<address type='drive' controller='0' bus='1' target='0' unit='1'/>"
    "</disk>"
)

NETWORK_HTTPS = (
    "<disk type='network' device='cdrom'>"
    "<driver name='qemu' type='raw'/>"
    "<source protocol='https' name='/image.iso'>"
    "<host name='secure.example.org' port='443'/><ssl verify='no'/></source>"
    "<target dev='sdd' bus='sata'/><readonly/>"
    "</disk>"
)

VOLUME = (
    "<disk type='volume' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source pool='default' volume='vol1.img' mode='host'/>"
    "<target dev='vde' bus='virtio'/>"
    "<address type='unassigned'/>"
    "</disk>"
)

NVME = (
    "<disk type='nvme' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source type='pci' managed='yes' namespace='1'>"
    "<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source>"
    "<target dev='vdf' bus='virtio'/>"
    "</disk>"
)

VHOSTUSER = (
    "<disk type='vhostuser' device='disk'>"
    "<driver name='qemu' type='raw' queues='2'/>"
    "<source type='unix' path='/tmp/vhost-blk.sock'><reconnect enabled='yes' timeout='10'/></source>"
    "<target dev='vdg' bus='virtio'/>"
    "</disk>"
)

CDROM_TRAY = (
    "<disk type='file' device='cdrom'>"
    "<driver name='qemu' type='raw'/>"
    "<source file='/isos/install.iso' startupPolicy='optional'/>"
    "<target dev='hdc' bus='ide' tray='open'/><readonly/>"
    "<boot order='2' loadparm='CD1'/>"
    "<address type='drive' controller='0' bus='1' target='0' unit='0'/>"
    "</disk>"
)

CDROM_EMPTY = "<disk type='file' device='cdrom'><target dev='sda' bus='usb' removable='on'/><readonly/>" + (
    "<address type='usb' bus='0' port='1'/></disk>"
)

FLOPPY = (
    "<disk type='file' device='floppy'>"
    "<source file='/floppies/boot.img'/>"
    "<target dev='fda' bus='fdc'/>"
    "<address type='drive' controller='0' bus='0' target='0' unit='0'/>"
    "</disk>"
)

DIR_FLOPPY = "<disk type='dir' device='floppy'><source dir='/srv/floppy'/><target dev='fdb' bus='fdc'/></disk>"

GEOMETRY_BLOCKIO = (
    "<disk type='block' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source dev='/dev/sdx'/>"
    "<geometry cyls='16383' heads='16' secs='63' trans='lba'/>"
    "<blockio logical_block_size='512' physical_block_size='4096'/>"
    "<target dev='hda' bus='ide'/>"
    "<transient shareBacking='yes'/>"
    "<address type='spapr-vio' reg='0x2000'/>"
    "</disk>"
)

ENCRYPTED = (
    "<disk type='file' device='disk'>"
    "<driver name='qemu' type='qcow2'/>"
    "<source file='/var/lib/libvirt/images/secure.qcow2'>"
    "<encryption format='luks'><secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/></encryption>"
    "</source>"
    "<target dev='vdh' bus='virtio'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'>"
    "<zpci uid='0x0001' fid='0x00000000'/></address>"
    "</disk>"
)

OLD_ENCRYPTION = (
    "<disk type='file' device='disk'>"
    "<driver name='qemu' type='qcow2'/>"
    "<source file='/var/lib/libvirt/images/old.qcow2'/>"
    "<target dev='sde' bus='sata'/>"
    "<encryption format='luks'><secret type='passphrase' usage='/var/lib/libvirt/images/old.qcow2'/></encryption>"
    "</disk>"
)

MIRROR = (
    "<disk type='file' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source file='/var/lib/libvirt/images/src.img'/>"
    "<mirror type='file' job='copy' ready='yes'><format type='qcow2'/>"
    "<source file='/var/lib/libvirt/images/copy.qcow2'/></mirror>"
    "<target dev='xvda' bus='xen'/>"
    "</disk>"
)

SAMPLES = [
    FILE_QCOW2,
    BLOCK_LUN,
    NETWORK_RBD,
    NETWORK_ISCSI,
    NETWORK_NBD,
    NETWORK_GLUSTER,
    NETWORK_HTTP,
    NETWORK_HTTPS,
    VOLUME,
    NVME,
    VHOSTUSER,
    CDROM_TRAY,
    CDROM_EMPTY,
    FLOPPY,
    DIR_FLOPPY,
    GEOMETRY_BLOCKIO,
    ENCRYPTED,
    OLD_ENCRYPTION,
    MIRROR,
]
