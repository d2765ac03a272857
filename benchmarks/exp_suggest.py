"""Experiments (issue stop18): scoring variants for suggestions on the four development sets.

Re-implements ``qualcode.suggest.train``'s scoring (the ``default`` row reproduces
``bench_suggest.py``'s default figures) and varies it: positive-unlabelled learning (``pu_w``:
unlabelled rows weigh 0.5 as negatives; ``pu_bag``: Mordelet & Vert bagging, 30 bags of P
against as many random unlabelled rows, out-of-bag scores; ``pu_iter``: a second fit with the
unlabelled rows the first scored above the coded median dropped), ``neg``: the codes'
``when_not_to_use`` clauses and quoted phrasings as negatives of their theme (weight 1 or 3),
``zs``: zero-shot margin (max cosine to the theme's definition material minus max to other
themes'; ``top3``: mean of the 3 best; ``ns``: the negatives among the others), ``rank``: rank
average of classifier and margin, ``agree``: classifier threshold AND margin at or above the
0.25/0.5 quantile of coded segments' margins, ``comp``: a theme suggested only where it is the
segment's best theme (scores as percentiles or relative to the thresholds; ``open``: among
themes the codings did not give it), ``mw``: definition material weighing 3 or 10, ``C``: the
regularisation. Thresholds, context and cap as the default unless said. ``@match``: ranking
alone, each theme gets exactly as many suggestions as the default gives it (no threshold).
Gold only scores. ``right/added``: (text, theme) pairs added to the lexicon's that gold has.

Run: ``python benchmarks/exp_suggest.py [METHOD ...]`` (no argument: all, written to
``benchmarks/results/suggest_experiments_stop18.json``).
"""
from __future__ import annotations

import json
import math
import pickle
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks import bench_suggest as B  # noqa: E402
from qualcode import suggest as S  # noqa: E402

SETS = {"blind": ROOT / "benchmarks/data/blind", "blind2": ROOT / "benchmarks/data/blind2",
        "blind3": ROOT / "benchmarks/data/blind3", "heldout": ROOT / "benchmarks/data/suggest_heldout.yaml"}
THEMES = ["finance", "trust", "design", "government", "leadership"]
CACHE = Path("/tmp/exp_suggest_cache.pkl")
RESULT = ROOT / "benchmarks/results/suggest_experiments_stop18.json"


def negative_material(book, theme):
    out = []
    for code in book.codes.values():
        if code.id != theme and (not code.parent or S.top_themes([code.id], book) != {theme}):
            continue
        text = code.when_not_to_use
        if not text:
            continue
        # drop "(code X)" redirections
        text = re.sub(r"\(code [^)]*\)", "", text)
        out.extend(S._QUOTED.findall(text))
        out.extend(S._QUOTED.sub(lambda m: m.group(1), p).strip(" ,;:.()") for p in S._CLAUSE.split(text))
    seen = set()
    return [t for t in (s.strip() for s in out) if len(t) > 3 and not (t in seen or seen.add(t))]


def load():
    if CACHE.exists():
        return pickle.loads(CACHE.read_bytes())
    from qualcode.embed import EmbeddingCache, load_encoder
    compiled = B._compiled(str(ROOT / "codebook.yaml"))
    book = compiled.codebook
    encoder, cache = load_encoder(), EmbeddingCache(None)
    names = S.themes(book)
    material = {t: S.definition_material(book, t) for t in names}
    allm = [m for t in names for m in material[t]]
    mvec = cache.embed(encoder, allm)
    owner = np.array([n for n, t in enumerate(names) for _ in material[t]])
    neg = {t: negative_material(book, t) for t in names}
    allneg = [m for t in names for m in neg[t]]
    nvec = cache.embed(encoder, allneg)
    nowner = np.array([n for n, t in enumerate(names) for _ in neg[t]])
    data = {"names": names, "mvec": mvec, "owner": owner, "nvec": nvec, "nowner": nowner, "neg": neg,
            "material": material, "sets": {}}
    for name, path in SETS.items():
        if path.is_dir():
            themes, units, segments = B.load_blind(path)
        else:
            themes, units = B.load_heldout(path, compiled)
            segments = [s for u in units for s in u.segments]
        vec = cache.embed(encoder, [s.text for s in segments])
        labels = np.array([[t in S.top_themes(s.codes, book) for t in names] for s in segments], dtype=bool)
        keys = {S.segment_key(s): i for i, s in enumerate(segments)}
        unit_rows = [[keys[S.segment_key(s)] for s in u.segments] for u in units]
        data["sets"][name] = {"vec": vec, "labels": labels, "near": S.neighbours(segments), "unit_rows": unit_rows,
                              "gold": [u.gold for u in units]}
    CACHE.write_bytes(pickle.dumps(data))
    return data


OPTS = {"C": 1.0}


def lr():
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=OPTS["C"], class_weight="balanced", max_iter=2000, random_state=S.SEED)


def oof_scores(X, y, mX, my, mw=None, w=None, fit=None, extra=None):
    """Out-of-fold scores of corpus rows; material rows (mX, my, mw) in every fold."""
    from sklearn.model_selection import StratifiedKFold
    fit = fit or (lambda Xf, yf, wf: lr().fit(Xf, yf, sample_weight=wf))
    w = np.ones(len(y)) if w is None else w
    mw = np.ones(len(my)) if mw is None else mw
    oof = np.zeros(len(y))
    folds = StratifiedKFold(n_splits=min(S.FOLDS, int(y.sum()), int((~y).sum())), shuffle=True, random_state=S.SEED)
    for a, b in folds.split(X, y):
        m = fit(np.vstack([X[a], mX]), np.concatenate([y[a], my]), np.concatenate([w[a], mw]))
        oof[b] = m.predict_proba(X[b])[:, 1]
    return oof


def rank01(v):
    from scipy.stats import rankdata
    return (rankdata(v) - 1) / max(len(v) - 1, 1)


def method_scores(d, st, n, method):
    """Raw (pre-context) score per corpus row of theme n for a method."""
    X, y = st["vec"], st["labels"][:, n]
    mX, owner = d["mvec"], d["owner"]
    my = owner == n
    kind = method["kind"]
    negm = d["nowner"] == n
    if kind == "default":
        return oof_scores(X, y, mX, my, mw=np.full(len(my), method.get("mw", 1.0)))
    if kind == "knn":  # mean of top-k similarities to coded segments + own material minus to uncoded
        return None
    if kind == "neg":  # when_not_to_use material as negatives of own theme
        w_neg = method.get("w", 1.0)
        mX2 = np.vstack([mX, d["nvec"][negm]])
        my2 = np.concatenate([my, np.zeros(negm.sum(), bool)])
        mw2 = np.concatenate([np.ones(len(my)), np.full(negm.sum(), w_neg)])
        return oof_scores(X, y, mX2, my2, mw2)
    if kind == "pu_w":  # unlabelled rows weigh less as negatives
        w = np.where(y, 1.0, method["w"])
        return oof_scores(X, y, mX, my, w=w)
    if kind == "pu_bag":  # Mordelet & Vert bagging: P vs random subsample of U, averaged OOB
        rng = np.random.default_rng(S.SEED)
        U = np.flatnonzero(~y)
        P = np.flatnonzero(y)
        tot = np.zeros(len(y)); cnt = np.zeros(len(y))
        # OOF for positives via folds of P; for U via out-of-bag
        from sklearn.model_selection import KFold
        kf = KFold(n_splits=min(S.FOLDS, len(P)), shuffle=True, random_state=S.SEED)
        pfolds = list(kf.split(P))
        for b in range(method.get("bags", 30)):
            sub = rng.choice(U, size=min(len(U), int(method.get("k", 1.0) * len(P))), replace=False)
            oob = np.setdiff1d(U, sub)
            f_tr, f_te = pfolds[b % len(pfolds)]
            rows = np.concatenate([P[f_tr], sub])
            m = lr().fit(np.vstack([X[rows], mX]), np.concatenate([y[rows], my]))
            test = np.concatenate([P[f_te], oob])
            tot[test] += m.predict_proba(X[test])[:, 1]; cnt[test] += 1
        return np.where(cnt > 0, tot / np.maximum(cnt, 1), 0.0)
    if kind == "pu_iter":  # down-weight unlabelled rows the first fit scores likely positive
        base = oof_scores(X, y, mX, my)
        thr = np.quantile(base[y], method.get("q", 0.5))
        w = np.where(y, 1.0, np.where(base >= thr, method.get("w", 0.0), 1.0))
        return oof_scores(X, y, mX, my, w=w)
    if kind in ("zs", "rank", "agree", "mul"):
        clf = method_scores(d, st, n, {"kind": method.get("base", "default"), **method.get("base_opts", {})})
        own = X @ mX[my].T
        others = X @ mX[~my].T
        if method.get("negsim"):
            others = np.hstack([others, X @ d["nvec"][negm].T])
        k = method.get("topk", 1)
        so = np.sort(own, axis=1)[:, -k:].mean(1)
        sx = np.sort(others, axis=1)[:, -k:].mean(1)
        margin = so - sx
        if kind == "zs":
            return margin
        if kind == "rank":
            a = method.get("a", 0.5)
            return (1 - a) * rank01(clf) + a * rank01(margin)
        if kind == "mul":
            return clf * (1 / (1 + np.exp(-margin / method.get("temp", 0.05))))
        if kind == "agree":
            st.setdefault("_margin", {})[n] = margin
            return clf
    raise ValueError(kind)


def all_scored(d, st, method):
    """Context scores of every theme with a classifier (all top-level themes)."""
    ctx = method.get("context", S.CONTEXT_WEIGHT)
    out = {}
    for n, t in enumerate(d["names"]):
        y = st["labels"][:, n]
        if y.sum() < S.MIN_POSITIVES or (~y).sum() < S.MIN_POSITIVES or not (d["owner"] == n).any():
            continue
        if t not in THEMES and not method.get("compete"):
            continue
        out[t] = S.with_context(method_scores(d, st, n, method), st["near"], ctx)
    return out


def run(d, name, method):
    OPTS["C"] = method.get("C", 1.0)
    st = d["sets"][name]
    names = d["names"]
    found = set()
    info = {}
    allsc = all_scored(d, st, method)
    comp = method.get("compete")
    if comp:
        ts = list(allsc)
        lab = np.stack([st["labels"][:, names.index(t)] for t in ts], 1)
        if comp.startswith("pct"):  # percentile among all corpus segments
            norm = np.stack([rank01(allsc[t]) for t in ts], 1)
        else:  # relative to the theme's threshold
            norm = np.stack([allsc[t] / np.quantile(allsc[t][lab[:, k]], S.THRESHOLD_QUANTILE) for k, t in enumerate(ts)], 1)
        if comp.endswith("open"):
            norm = np.where(lab, -np.inf, norm)
        best = norm.max(1)
    for t in THEMES:
        n = names.index(t)
        y = st["labels"][:, n]
        if t not in allsc:
            continue
        scored = allsc[t]
        ctx = method.get("context", S.CONTEXT_WEIGHT)
        q = method.get("quantile", S.THRESHOLD_QUANTILE)
        thr = float(np.quantile(scored[y], q))
        ok = (scored >= thr) & ~y
        if comp:
            ok &= norm[:, ts.index(t)] >= best - 1e-12
        if method["kind"] == "agree":
            mg = S.with_context(st["_margin"][n], st["near"], ctx)
            mthr = float(np.quantile(mg[y], method.get("mq", 0.25)))
            ok &= mg >= mthr
        cand = np.flatnonzero(ok)
        cand = cand[np.argsort(-scored[cand], kind="stable")]
        cap = method.get("cap", S.SUGGESTION_CAP)
        if method.get("match"):  # ranking only: the default's number of suggestions, no threshold
            cand = np.flatnonzero(~y)
            cand = cand[np.argsort(-scored[cand], kind="stable")][:MATCH[name].get(t, (0, 0))[1]]
        elif cap is not None:
            cand = cand[:math.floor(cap * int(y.sum()) + 1e-9)]
        found |= {(int(i), t) for i in cand}
        info[t] = (round(thr, 3), len(cand))
    lex = [{t for r in rows for t in THEMES if st["labels"][r, names.index(t)]} for rows in st["unit_rows"]]
    sug = [{t for r in rows for t in THEMES if (r, t) in found} for rows in st["unit_rows"]]
    merged = [a | b for a, b in zip(lex, sug)]
    L = B.score(st["gold"], lex, THEMES)["macro"]
    M = B.score(st["gold"], merged, THEMES)["macro"]
    return {"lex_P": L["precision"], "lex_F1": L["f1"], "P": M["precision"], "F1": M["f1"],
            "dP": M["precision"] - L["precision"], "dF1": M["f1"] - L["f1"],
            "added": sum(len(s - l) for s, l in zip(sug, lex)),
            "right": sum(len((s - l) & g) for s, l, g in zip(sug, lex, st["gold"])),
            "wrong_by_theme": {t: sum(t in s and t not in l and t not in g for s, l, g in zip(sug, lex, st["gold"])) for t in THEMES},
            "info": info}


METHODS = {
    "default": {"kind": "default"},
    "neg1": {"kind": "neg", "w": 1.0},
    "neg3": {"kind": "neg", "w": 3.0},
    "pu_w0.5": {"kind": "pu_w", "w": 0.5},
    "pu_bag": {"kind": "pu_bag", "bags": 30, "k": 1.0},
    "pu_iter": {"kind": "pu_iter", "q": 0.5, "w": 0.0},
    "zs": {"kind": "zs"},
    "zs_top3": {"kind": "zs", "topk": 3},
    "rank0.5": {"kind": "rank", "a": 0.5},
    "rank0.3": {"kind": "rank", "a": 0.3},
    "agree0.25": {"kind": "agree", "mq": 0.25},
    "agree0.5": {"kind": "agree", "mq": 0.5},
    "neg1+agree0.25": {"kind": "agree", "mq": 0.25, "base": "neg", "base_opts": {"w": 1.0}},
    "neg1+agree0.25ns": {"kind": "agree", "mq": 0.25, "base": "neg", "base_opts": {"w": 1.0}, "negsim": True},
    "agree0.25ns": {"kind": "agree", "mq": 0.25, "negsim": True},
    "rank0.5neg": {"kind": "rank", "a": 0.5, "base": "neg", "base_opts": {"w": 1.0}},
    "zs_ns": {"kind": "zs", "negsim": True},
    "mw3": {"kind": "default", "mw": 3.0},
    "rank0.5+agree0.25": {"kind": "agree", "mq": 0.25, "base": "rank", "base_opts": {"a": 0.5}},
    "rank0.5+agree0.5": {"kind": "agree", "mq": 0.5, "base": "rank", "base_opts": {"a": 0.5}},
    "neg1+C0.3": {"kind": "neg", "w": 1.0, "C": 0.3},
    "comp_pct": {"kind": "default", "compete": "pct"},
    "comp_pct_open": {"kind": "default", "compete": "pct_open"},
    "comp_thr": {"kind": "default", "compete": "thr"},
    "comp_thr_open": {"kind": "default", "compete": "thr_open"},
    "mw10": {"kind": "default", "mw": 10.0},
    "C0.3": {"kind": "default", "C": 0.3},
    "C3": {"kind": "default", "C": 3.0},
    "C10": {"kind": "default", "C": 10.0},
    "rank0.5bag": {"kind": "rank", "a": 0.5, "base": "pu_bag", "base_opts": {"bags": 30, "k": 1.0}},
}

MATCH = {}

if __name__ == "__main__":
    d = load()
    for s_ in SETS:
        MATCH[s_] = run(d, s_, METHODS["default"])["info"]
    chosen = sys.argv[1:] or [*METHODS, *(f"{m}@match" for m, v in METHODS.items()
                                                    if m != "default" and v["kind"] != "agree" and not v.get("compete"))]
    out = {}
    for m in chosen:
        if m.endswith("@match"):
            spec = {**METHODS[m[:-6]], "match": True}
        else:
            spec = METHODS[m] if m in METHODS else json.loads(m)
        res = {s: run(d, s, spec) for s in SETS}
        out[m] = res
        row = " | ".join(f"{s}: P {r['P']:.3f} ({r['dP']:+.3f}) F1 {r['F1']:.3f} ({r['dF1']:+.3f}) {r['right']}/{r['added']}"
                         for s, r in res.items())
        tot = sum(r["right"] for r in res.values()), sum(r["added"] for r in res.values())
        print(f"{m:12s} | {row} | all {tot[0]}/{tot[1]}", flush=True)
    base = out.get("default")
    if base:
        for m, res in out.items():
            ok = all((r["dF1"] >= base[s_]["dF1"] - 1e-9 and r["dP"] >= base[s_]["dP"] - 1e-9)
                     or (r["dP"] >= -0.03 and r["dF1"] >= base[s_]["dF1"] - 1e-9) for s_, r in res.items())
            target = all(r["dF1"] >= 0.05 and r["dP"] >= -0.03 for r in res.values())
            print(f"{m:20s} beats default on all four: {ok}; issue target on all four: {target}")
    Path("/tmp/exp_out.json").write_text(json.dumps(out, indent=1, default=str))
    if not sys.argv[1:]:
        RESULT.write_text(json.dumps({
            "what": __doc__.strip(), "sets": {k: str(v.relative_to(ROOT)) for k, v in SETS.items()},
            "themes": THEMES, "methods": {m: METHODS.get(m.removesuffix("@match"), {}) | ({"match": True} if m.endswith("@match") else {})
                                          for m in out},
            "results": {m: {s_: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
                            for s_, r in res.items()} for m, res in out.items()},
            "beats_default_on_all_four": {m: all((r["dF1"] >= base[s_]["dF1"] - 1e-9 and r["dP"] >= base[s_]["dP"] - 1e-9)
                                                 or (r["dP"] >= -0.03 and r["dF1"] >= base[s_]["dF1"] - 1e-9)
                                                 for s_, r in res.items()) for m, res in out.items()},
        }, indent=1) + "\n", encoding="utf-8")
