#!/usr/bin/env python3
"""One-off (2026-12-01): the first members were trained with --out weights/<id>.safetensors,
which put them into weights/manifest.json, where the app lists every entry as a model. This moves
each entry that has an `ensemble` tag, and its file, into weights/ensembles/ (manifest.json
there), and rewrites the `--out` in its recorded command to the new path. Run from the repo root."""
import json, os
src = "weights/manifest.json"
dst = "weights/ensembles/manifest.json"
os.makedirs("weights/ensembles", exist_ok=True)
m = json.load(open(src))
d = json.load(open(dst)) if os.path.exists(dst) else {"models": []}
keep = []
for e in m["models"]:
    if "ensemble" not in e:
        keep.append(e)
        continue
    os.rename(f"weights/{e['file']}", f"weights/ensembles/{e['file']}")
    e["command"] = e["command"].replace(f"--out weights/{e['file']}", f"--out weights/ensembles/{e['file']}")
    d["models"] = [x for x in d["models"] if x["id"] != e["id"]] + [e]
    print("moved", e["id"])
d["models"].sort(key=lambda x: x["id"])
m["models"] = keep
for path, v in ((src, m), (dst, d)):
    with open(path, "w") as f:
        f.write(json.dumps(v, indent=2, ensure_ascii=False))
