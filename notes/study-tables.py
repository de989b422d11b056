#!/usr/bin/env python3
"""Markdown tables for notes/study.md from the JSON files in public/study/ (issue 10).
Usage: python3 notes/study-tables.py public/study/*.json"""
import json, sys

def f(x, d=4):
    return "–" if x is None else f"{x:.{d}f}"

clean_rows, attack_rows, class_rows = [], [], []
for path in sys.argv[1:]:
    d = json.load(open(path))
    for s in d["studies"]:
        m = s["meta"]
        name = m.get("ensemble") or "+".join(m["models"])
        how = f"MC T={m['passes']} p={m['p']:.2f}" if m["method"] == "mc_dropout" else f"ensemble K={m['passes']}"
        c = s["clean"]
        if c["images"]:
            clean_rows.append(f"| {name} | {how} | {c['images']} | {f(c['det_top1'])} | {f(c['top1'])} | {f(c['true_prob'])} | {f(c['variance'],6)} | {f(c['entropy'])} | {f(c['mutual_information'])} | {f(c['det_reliability']['ece'])} | {f(c['reliability']['ece'])} |")
            class_rows.append((name, how, c["per_class"]))
        for a in s.get("attacks", []):
            p = a["parameters"]
            label = a["attack"] + (f" ε={p['eps']}" if "eps" in p else "")
            auc = {x["score"]: x["auroc"] for x in a["detection"]}
            auc_ok = {x["score"]: x["auroc"] for x in a["detection_successful"]}
            b, v = a["benign"], a["adversarial"]
            attack_rows.append(f"| {name} | {how} | {label} | {a['images']} | {f(a['success_rate'],3)} | {f(b['top1'],3)} → {f(v['top1'],3)} | {f(b['true_prob'],3)} → {f(v['true_prob'],3)} | {f(b['predicted_variance'],5)} → {f(v['predicted_variance'],5)} | {f(b['entropy'],3)} → {f(v['entropy'],3)} | {f(b['mutual_information'],4)} → {f(v['mutual_information'],4)} | {f(auc['variance'],3)} / {f(auc['entropy'],3)} / {f(auc['mutual_information'],3)} | {f(auc_ok['variance'],3)} / {f(auc_ok['entropy'],3)} / {f(auc_ok['mutual_information'],3)} |")

if clean_rows:
    print("| model | method | images | det top-1 | avg top-1 | true-class prob (report's accuracy) | true-class variance (report's confidence) | entropy | MI | ECE det | ECE avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(clean_rows))
    print()
    print("Per class: the report's confidence (mean true-class variance, ×10⁴) / the report's accuracy (mean true-class probability) / top-1 of the averaged prediction")
    print()
    print("| class | " + " | ".join(f"{n} ({h})" for n, h, _ in class_rows) + " |")
    print("|---|" + "---|" * len(class_rows))
    for k in range(len(class_rows[0][2])):
        print(f"| {k} | " + " | ".join(f"{r[k]['variance']*1e4:.2f} / {r[k]['true_prob']:.4f} / {r[k]['top1']:.4f}" for _, _, r in class_rows) + " |")
    print()
if attack_rows:
    print("| model | method | attack | N | success | top-1 benign → adv | true-class prob | predicted-class variance | entropy | MI | AUROC all adv (var / H / MI) | AUROC successful adv (var / H / MI) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(attack_rows))
