"""Every benchmark case, registered on import, in the order the harness runs and prints them.

Later issues add a module here and name it in MODULES.
"""

from importlib import import_module

MODULES = ("auth", "tenancy", "me")

for _module in MODULES:
    import_module(f"{__name__}.{_module}")
