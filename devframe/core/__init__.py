"""devframe's core: hook specs, registry, dispatcher, device model, domain, safe XML.

The core never imports the libvirt layer (``devframe.agent``) or any plugin.
"""
