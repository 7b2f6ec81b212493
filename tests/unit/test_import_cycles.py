"""No module of app imports itself through others: every import cycle is a design smell
(a rule without one home), and one hidden behind a late import or a ``noqa`` is still one.
Layering is checked by `make lint` (lint-imports, contracts in pyproject.toml); a cycle inside
one layer, or through a package's own ``__init__``, is caught here.
"""

from __future__ import annotations

import grimp


def test_no_module_imports_itself_through_others() -> None:
    # Every import counts: at module level, inside functions and under TYPE_CHECKING.
    graph = grimp.build_graph("app", cache_dir=None)
    cycles = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                cycle = (module, *back)
                # One cycle is found from each of its modules: keep it once, from its smallest.
                start = cycle.index(min(cycle[:-1]))
                cycles.add(" -> ".join(cycle[start:-1] + cycle[:start] + (cycle[start],)))
    assert sorted(cycles) == []
