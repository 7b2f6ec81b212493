"""Every benchmark case, registered on import, in the order the harness runs and prints them.

Later issues add a module here and name it in MODULES. GROUPS maps each module to the keys of
the cases it registered (``--only roster`` runs those of bench/cases/roster.py).
"""

from importlib import import_module

from bench.core import CASES

MODULES = ("auth", "tenancy", "me", "roster", "markbook", "reports", "graphql", "packs")
GROUPS: dict[str, tuple[str, ...]] = {}

for _module in MODULES:
    _before = set(CASES)
    import_module(f"{__name__}.{_module}")
    GROUPS[_module] = tuple(key for key in CASES if key not in _before)
