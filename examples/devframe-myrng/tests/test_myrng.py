from devframe import parse_domain
from devframe.testing import contract_tests, wrap_in_domain

SAMPLES = [
    "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
    "<rng model='virtio'><rate bytes='1234' period='2000'/>"
    "<backend model='egd' type='udp'><source mode='bind' service='1234'/>"
    "<source mode='connect' host='192.0.2.1' service='1234'/></backend>"
    "<alias name='ua-4c0a3b6e-2f0d-4b8e-9d61-0a2b3c4d5e6f'/></rng>",
    "<rng model='virtio-non-transitional'><driver iommu='on'/><backend model='builtin'/></rng>",
]

TestContract = contract_tests("myrng", samples=SAMPLES)


def test_fields(devframe_registry):
    domain = parse_domain(wrap_in_domain(SAMPLES[1]), registry=devframe_registry("myrng"))
    (rng,) = domain.dev_map["rng"]
    assert (rng.backend, rng.rate_bytes, rng.rate_period) == ("egd", 1234, 2000)


def test_a_partial_spec_gets_defaults(devframe_registry):
    rng = devframe_registry("myrng").device_from_spec({"type": "rng"})
    assert rng.to_xml() == '<rng model="virtio"><backend model="random"/></rng>'
