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

# -- every network protocol -------------------------------------------------------------------

NETWORK_FTP = (
    "<disk type='network' device='cdrom'>"
    "<driver name='qemu' type='raw'/>"
    "<source protocol='ftp' name='/pub/install.iso'>"
    "<host name='ftp.example.org' port='21'/><readahead size='131072'/><timeout seconds='30'/></source>"
    "<target dev='sdf' bus='scsi'/><readonly/>"
    "<address type='drive' controller='0' bus='0' target='0' unit='5'/>"
    "</disk>"
)

NETWORK_FTPS = (
    "<disk type='network' device='cdrom'>"
    "<driver name='qemu' type='raw'/>"
    "<source protocol='ftps' name='/secure/install.iso'>"
    "<host name='ftps.example.org' port='990'/><ssl verify='yes'/></source>"
    "<target dev='sdg' bus='sata'/><readonly/>"
    "</disk>"
)

NETWORK_TFTP = (
    "<disk type='network' device='floppy'>"
    "<source protocol='tftp' name='/boot/floppy.img'><host name='tftp.example.org' port='69'/></source>"
    "<target dev='fdc' bus='fdc'/>"
    "</disk>"
)

NETWORK_SHEEPDOG = (
    "<disk type='network' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source protocol='sheepdog' name='image-1'><host name='sheep.example.org' port='7000'/></source>"
    "<target dev='vdk' bus='virtio'/>"
    "</disk>"
)

NETWORK_VXHS = (
    "<disk type='network' device='disk'>"
    "<driver name='qemu' type='raw' cache='none'/>"
    "<source protocol='vxhs' name='eb90327c-8302-4725-9e1b-4e85ed4dc251' tls='yes'>"
    "<host name='192.0.2.10' port='9999'/></source>"
    "<target dev='vdl' bus='virtio'/>"
    "</disk>"
)

NETWORK_NFS = (
    "<disk type='network' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source protocol='nfs' name='/export/disk.img'>"
    "<host name='nfs.example.org'/><identity user='qemu' group='kvm'/></source>"
    "<target dev='vdm' bus='virtio'/>"
    "</disk>"
)

# -- credentials, encryption, labels, reservations, slices ---------------------------------------

DISK_AUTH = (  # the disk-level <auth>, where VDSM writes it
    "<disk type='network' device='disk'>"
    "<driver name='qemu' type='raw' cache='none' error_policy='stop' io='threads'/>"
    "<auth username='cinder'><secret type='ceph' uuid='0f1e2d3c-0000-4000-8000-00000000abcd'/></auth>"
    "<source protocol='rbd' name='volumes/volume-1'>"
    "<host name='192.0.2.21' port='6789' transport='tcp'/><host name='192.0.2.22' port='6789' transport='tcp'/>"
    "</source>"
    "<target dev='vdn' bus='virtio'/>"
    "<serial>volume-1</serial>"
    "</disk>"
)

LUKS_CIPHER = (
    "<disk type='block' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source dev='/dev/vg/encrypted'>"
    "<encryption format='luks' engine='qemu'><secret type='passphrase' usage='luks-volume-1'/>"
    "<cipher name='aes' size='256' mode='xts' hash='sha256'/><ivgen name='plain64' hash='sha256'/></encryption>"
    "</source>"
    "<target dev='vdo' bus='virtio'/>"
    "</disk>"
)

RBD_LIBRBD_ENCRYPTION = (
    "<disk type='network' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source protocol='rbd' name='pool/encrypted'>"
    "<host name='mon1.example.org' port='6789'/>"
    "<auth username='admin'><secret type='ceph' usage='client.admin secret'/></auth>"
    "<encryption format='luks2' engine='librbd'>"
    "<secret type='passphrase' uuid='8a8a7b6c-0000-4000-8000-0000000000e2'/></encryption>"
    "</source>"
    "<target dev='vdp' bus='virtio'/>"
    "</disk>"
)

SECLABELS_SLICES = (
    "<disk type='file' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source file='/var/lib/libvirt/images/sliced.raw' fdgroup='images'>"
    "<slices><slice type='storage' offset='1048576' size='104857600'/></slices>"
    "<seclabel model='selinux' relabel='yes'><label>system_u:object_r:svirt_image_t:s0:c10,c20</label></seclabel>"
    "<seclabel model='dac' relabel='no'/><seclabel model='apparmor' labelskip='yes'/>"
    "</source>"
    "<target dev='vdq' bus='virtio'/>"
    "</disk>"
)

RESERVATIONS_MANAGED = (
    "<disk type='block' device='lun' sgio='filtered'>"
    "<driver name='qemu' type='raw' cache='none' io='native'/>"
    "<source dev='/dev/mapper/36001405a1b2c3d4e5f60718293a4b5c6'><reservations managed='yes'/></source>"
    "<target dev='sdh' bus='scsi'/><shareable/>"
    "<address type='drive' controller='0' bus='0' target='0' unit='7'/>"
    "</disk>"
)

RESERVATIONS_RECONNECT = (
    "<disk type='block' device='lun'>"
    "<driver name='qemu' type='raw'/>"
    "<source dev='/dev/sdz'><reservations managed='no'>"
    "<source type='unix' path='/run/pr-helper.sock' mode='server'><reconnect enabled='yes' timeout='5'/></source>"
    "</reservations></source>"
    "<target dev='sdi' bus='scsi'/>"
    "</disk>"
)

# -- chains and block jobs -------------------------------------------------------------------

NETWORK_CHAIN = (  # a Ceph image over a snapshot: the layer has hosts and its own login
    "<disk type='network' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source protocol='rbd' name='pool/clone' index='3'><host name='mon1.example.org' port='6789'/>"
    "<auth username='admin'><secret type='ceph' uuid='4a4f8a4e-0000-4000-8000-00000000000c'/></auth></source>"
    "<backingStore type='network' index='4'><format type='raw'/>"
    "<source protocol='rbd' name='pool/base@snap1'><host name='mon1.example.org' port='6789'/>"
    "<auth username='admin'><secret type='ceph' uuid='4a4f8a4e-0000-4000-8000-00000000000c'/></auth></source>"
    "<backingStore/></backingStore>"
    "<target dev='vdr' bus='virtio'/>"
    "</disk>"
)

MIRROR_OLD = (  # the old block-copy form: file and format as attributes
    "<disk type='file' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source file='/var/lib/libvirt/images/old-src.img'/>"
    "<mirror file='/var/lib/libvirt/images/old-copy.img' format='raw' job='copy' ready='abort'/>"
    "<target dev='vds' bus='virtio'/>"
    "</disk>"
)

MIRROR_COMMIT = (  # an active commit into the base, which has a chain of its own
    "<disk type='block' device='disk'>"
    "<driver name='qemu' type='qcow2'/>"
    "<source dev='/dev/vg/top' index='1'/>"
    "<backingStore type='block' index='2'><format type='qcow2'/><source dev='/dev/vg/mid'/>"
    "<backingStore type='block' index='3'><format type='raw'/><source dev='/dev/vg/base'/><backingStore/>"
    "</backingStore></backingStore>"
    "<mirror type='block' job='active-commit' ready='pivot'><format type='raw'/><source dev='/dev/vg/base' index='5'/>"
    "<backingStore/></mirror>"
    "<target dev='vdt' bus='virtio'/>"
    "</disk>"
)

LITERAL_COW = (  # libvirt's own (User-Mode-Linux) cow format, on the disk and in a layer
    "<disk type='file' device='disk'>"
    "<driver name='qemu' type='cow'/>"
    "<source file='/var/lib/libvirt/images/uml.cow'/>"
    "<backingStore type='file'><format type='cow'/><source file='/var/lib/libvirt/images/uml-base.cow'/>"
    "</backingStore>"
    "<target dev='hdb' bus='ide'/>"
    "</disk>"
)

# -- volume lun, Xen backend domain, ACPI index ---------------------------------------------------

VOLUME_LUN = (
    "<disk type='volume' device='lun' sgio='filtered' rawio='no'>"
    "<driver name='qemu' type='raw'/>"
    "<source pool='iscsi-pool' volume='unit:0:0:1' mode='direct'/>"
    "<target dev='sdj' bus='scsi'/>"
    "</disk>"
)

XEN_BACKEND_ACPI = (
    "<disk type='file' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source file='/var/lib/libvirt/images/xen.img'/>"
    "<backenddomain name='driver-domain'/>"
    "<target dev='vdu' bus='virtio'/>"
    "<acpi index='7'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x0a' function='0x0'/>"
    "</disk>"
)

# -- libvirt 11 only (validate against 11.3's schema, not 9.0's) ---------------------------------

NETWORK_SSH = (
    "<disk type='network' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source protocol='ssh' name='/images/disk.img'><host name='ssh.example.org' port='22'/>"
    "<knownHosts path='/etc/libvirt/ssh_known_hosts'/>"
    "<identity username='qemu' keyfile='/etc/libvirt/ssh_key'/></source>"
    "<target dev='vdv' bus='virtio'/>"
    "</disk>"
)

NETWORK_SSH_AGENT = (
    "<disk type='network' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source protocol='ssh' name='/images/agent.img'><host name='ssh.example.org'/>"
    "<identity username='qemu' agentsock='/run/ssh-agent.sock'/></source>"
    "<target dev='vdw' bus='virtio'/>"
    "</disk>"
)

NETWORK_NBD_RECONNECT = (
    "<disk type='network' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source protocol='nbd' name='export2'><host name='nbd.example.org' port='10809'/>"
    "<reconnect delay='10'/></source>"
    "<target dev='vdx' bus='virtio'/>"
    "</disk>"
)

VHOSTVDPA = (
    "<disk type='vhostvdpa' device='disk'>"
    "<driver name='qemu' type='raw' cache='none' io='threads'/>"
    "<source dev='/dev/vhost-vdpa-0'/>"
    "<target dev='vdy' bus='virtio'/>"
    "</disk>"
)

DATASTORE = (
    "<disk type='file' device='disk'>"
    "<driver name='qemu' type='qcow2'/>"
    "<source file='/var/lib/libvirt/images/meta.qcow2'>"
    "<dataStore type='file'><format type='raw'/><source file='/var/lib/libvirt/images/data.raw'/></dataStore>"
    "</source>"
    "<target dev='vdz' bus='virtio'/>"
    "</disk>"
)

THROTTLE_IOTHREADS = (
    "<disk type='file' device='disk'>"
    "<driver name='qemu' type='raw' queues='2' discard_no_unref='on'>"
    "<iothreads><iothread id='1'><queue id='0'/></iothread><iothread id='2'><queue id='1'/></iothread></iothreads>"
    "</driver>"
    "<source file='/var/lib/libvirt/images/throttled.raw'/>"
    "<target dev='vdaa' bus='virtio'/>"
    "<throttlefilters><throttlefilter group='limit0'/><throttlefilter group='limit1'/></throttlefilters>"
    "</disk>"
)

ENCRYPTION_LUKS_ANY = (
    "<disk type='file' device='disk'>"
    "<driver name='qemu' type='raw'/>"
    "<source file='/var/lib/libvirt/images/any.luks'>"
    "<encryption format='luks-any' engine='qemu'>"
    "<secret type='passphrase' uuid='1b2c3d4e-0000-4000-8000-00000000f00d'/></encryption>"
    "</source>"
    "<target dev='vdab' bus='virtio'/>"
    "</disk>"
)

#: samples libvirt 9.0's schema refuses (11.x elements); every other sample is 9.0-valid
V11_ONLY = frozenset(
    {
        "NETWORK_SSH", "NETWORK_SSH_AGENT", "NETWORK_NBD_RECONNECT", "VHOSTVDPA", "DATASTORE",
        "THROTTLE_IOTHREADS", "ENCRYPTION_LUKS_ANY",
    }
)  # fmt: skip

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
    NETWORK_FTP,
    NETWORK_FTPS,
    NETWORK_TFTP,
    NETWORK_SHEEPDOG,
    NETWORK_VXHS,
    NETWORK_NFS,
    DISK_AUTH,
    LUKS_CIPHER,
    RBD_LIBRBD_ENCRYPTION,
    SECLABELS_SLICES,
    RESERVATIONS_MANAGED,
    RESERVATIONS_RECONNECT,
    NETWORK_CHAIN,
    MIRROR_OLD,
    MIRROR_COMMIT,
    LITERAL_COW,
    VOLUME_LUN,
    XEN_BACKEND_ACPI,
    NETWORK_SSH,
    NETWORK_SSH_AGENT,
    NETWORK_NBD_RECONNECT,
    VHOSTVDPA,
    DATASTORE,
    THROTTLE_IOTHREADS,
    ENCRYPTION_LUKS_ANY,
]

#: every sample by name
BY_NAME = {name: value for name, value in globals().items() if isinstance(value, str) and value in SAMPLES}
