#!/usr/bin/env python3
# The app's module import graph, from every `crate::…` path in src/ (a `use` or a full path), and
# its cycles: prints the graph and exits 1 when two or more modules import each other, directly or
# round a loop. Run by scripts/test.sh:  python3 tools/modgraph.py src
import re, os, sys
root = sys.argv[1] if len(sys.argv) > 1 else 'src'
mods = {}
for dp, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'): continue
        p = os.path.join(dp, f)
        rel = os.path.relpath(p, root)[:-3].replace(os.sep, '::')
        rel = rel.removesuffix('::mod')
        if rel in ('main',): rel = 'crate'
        src = open(p).read()
        deps = set()
        for m in re.finditer(r'crate::([a-z_]+(?:::[a-z_]+)*)', src):
            parts = m.group(1).split('::')
            # resolve to the longest known module path later
            deps.add('::'.join(parts))
        mods[rel] = deps
names = set(mods)
graph = {}
for m, deps in mods.items():
    out = set()
    for d in deps:
        parts = d.split('::')
        for k in range(len(parts), 0, -1):
            cand = '::'.join(parts[:k])
            if cand in names:
                if cand != m: out.add(cand)
                break
    graph[m] = out
# cycles between files (a module and its parent `mod.rs` listing are not imports)
cycles = []
def dfs(n, stack, seen):
    for d in graph.get(n, ()):
        if d in stack:
            cycles.append(stack[stack.index(d):] + [d]); continue
        if d not in seen:
            seen.add(d); dfs(d, stack + [d], seen)
for n in graph:
    dfs(n, [n], {n})
for m in sorted(graph): print(f'{m:28} -> {", ".join(sorted(graph[m]))}')
uniq = {tuple(sorted(set(c))) for c in cycles}
print('cycles:', len(uniq))
for c in uniq: print('  ', ' -> '.join(c))
sys.exit(1 if uniq else 0)
