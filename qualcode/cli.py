"""The ``qualcode`` command: each subcommand parses its arguments, calls one library
function and prints the result. No spaCy import happens before a command needs it.

Exit codes: 0 ok, 1 internal error (a bug: please report it), 2 bad input (the message
names the file, line and column), 130 interrupted, 128+N on signal N (SIGTERM,
SIGHUP) during a write, after removing the temporary files.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from . import __version__
from .errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, QualcodeError

UNITS = ("sentence", "paragraph", "section", "document")
MATRICES = ("theme-theme", "theme-case", "theme-document", "claim-case", "claim-theme")
CLAIM_MATRICES = ("claim-case", "claim-theme")
SOURCES = ("rule", "manual", "combined")  # qualcode.codings.SOURCES, without importing it
DEFAULT_CODINGS = "codings"
KEEP_RUNS = 5  # qualcode.store.KEEP_RUNS, without importing the store for --help (a test keeps them equal)
EPILOG = "exit codes: 0 ok, 1 internal error, 2 bad input (file:line:col: what is wrong)"


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    parser = build_parser()
    args = parser.parse_args(argv)
    args.started = started  # for the summary's wall time of the whole command
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_OK
    warnings.showwarning = _show_warning
    try:
        code = args.func(args) or EXIT_OK
        _flush_stdout()
        return code
    except QualcodeError as err:
        for problem in err.problems:
            print(f"error: {problem}", file=sys.stderr)
        _discard_stdout()
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:
        from .fileio import Terminated

        if isinstance(exc, Terminated):
            print(f"terminated by signal {exc.signum}; unfinished output files were removed", file=sys.stderr)
        raise
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_OK
    except Exception as err:  # noqa: BLE001 - the one place a bug becomes a clean message
        if getattr(args, "debug", False):
            raise
        print(f"internal error: {type(err).__name__}: {err}\n"
              f"This is a bug in qualcode; rerun with --debug for the traceback and report it.", file=sys.stderr)
        return EXIT_INTERNAL


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qualcode", epilog=EPILOG,
        description="Code a qualitative corpus against a YAML codebook, with an exact audit trail, "
                    "and map the evidence as a graph.")
    parser.add_argument("--version", action="version", version=f"qualcode {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, epilog=EPILOG)
        p.set_defaults(func=func)
        p.add_argument("--debug", action="store_true", help="show the traceback of an internal error")
        return p

    p = command("code", cmd_code, "Segment and code the corpus; write one record per segment (JSONL or CSV).")
    _inputs(p)
    p.add_argument("--format", choices=("jsonl", "csv"), default=None,
                   help="output format (default: from the suffix of -o, else jsonl)")
    p.add_argument("-o", "--output", default="-", metavar="FILE", help="output file, or - for standard output (default)")
    p.add_argument("--explain", action="store_true",
                   help="add to each record the rule codings not applied and why: 'vetoed' (by an exclusion) and "
                        "'rejected' (by a coder's 'not:')")
    _store_options(p)
    p.add_argument("--suggestions", choices=("exclude", "include"), default="exclude",
                   help="include: suggested codes above their threshold join the records' codes, marked source "
                        "'suggested' with their score in matches (needs qualcode[suggest]; default: exclude)")
    p.add_argument("--suggest-model", default=None, metavar="DIR",
                   help="with --suggestions include: a local ONNX sentence encoder (model.onnx, tokenizer.json)")

    p = command("suggest", cmd_suggest, "Suggest codes the patterns missed, per segment, with score, threshold, "
                                        "model and evidence (needs qualcode[suggest]).")
    _suggest_inputs(p)
    p.add_argument("--format", choices=("json", "csv"), default=None,
                   help="output format (default: from the suffix of -o, else json)")
    p.add_argument("-o", "--output", default="-", metavar="FILE", help="output file, or - for standard output (default)")

    p = command("review", cmd_review, "Review suggestions: accept or reject them one at a time on a terminal, or "
                                      "by id with --accept/--reject; accepted ones become the coder's manual "
                                      "codings (codings/CODER.csv), every decision is logged in codings/review/.")
    _suggest_inputs(p)
    p.add_argument("--coder", default=None,
                   help="the reviewer's name: writes codings/CODER.csv (with --decisions, for rows without a coder)")
    p.add_argument("--accept", nargs="+", default=[], metavar="ID", help="accept these suggestions (no terminal)")
    p.add_argument("--reject", nargs="+", default=[], metavar="ID", help="reject these suggestions (no terminal)")
    p.add_argument("--decisions", default=None, metavar="FILE.csv",
                   help="apply a decisions file: columns id, decision (accept|reject|skip), optional coder and note; "
                        "checked whole, nothing written if any row is wrong (no terminal)")
    p.add_argument("--as-example", action="store_true",
                   help="with --accept or --decisions: every accepted passage also becomes an example of its code "
                        "in the codebook (inserted as text; nothing else in the file changes)")

    p = command("check", cmd_check, "Validate the codebook and the corpus; report every problem at once.")
    p.add_argument("--codebook", default="codebook.yaml", help="the codebook (default: codebook.yaml)")
    p.add_argument("--corpus", default="corpus", help="the corpus folder (default: corpus); '' to check only the codebook")
    p.add_argument("--codings", default=None, metavar="DIR",
                   help="folder of manual codings to check (default: codings/ if it exists; '' for none)")
    p.add_argument("--model", default=None, help="an installed spaCy pipeline to use instead of the offline one")
    _skip_unreadable(p)

    p = command("graph", cmd_graph, "Build the theme/case/document evidence graph and export it (format from -o's suffix: "
                                    ".gexf .graphml .json .csv, or a picture: .svg .png).")
    _inputs(p)
    _graph_options(p)
    p.add_argument("--min-weight", type=float, default=0.0, help="drop edges with a smaller weight (default: 0)")
    p.add_argument("--min-count", type=int, default=0, help="drop edges with a smaller count (default: 0)")
    p.add_argument("--kinds", default=None, help="node kinds to keep, comma-separated: theme,case,document")
    p.add_argument("--docs", default=None,
                   help="only these documents, comma-separated: document kinds (interview, paper) or id prefixes")
    p.add_argument("--include-nested", action="store_true",
                   help="keep theme-theme edges between a theme and its own parent or ancestor (left out by default)")
    _claims_option(p, "add a node per claim of this claims file, linked to its cases and themes (default: "
                      "claims.yaml beside the codebook, when it exists and --coding is not given; '' for none)")
    p.add_argument("--with-evidence", action="store_true",
                   help="with the claims: add each claim's anchors and evidence as segment nodes (doc, line, text)")
    p.add_argument("-o", "--output", action="append", required=True, metavar="FILE",
                   help="output file; repeat for several formats (.svg and .png need qualcode[plot])")

    p = command("matrix", cmd_matrix, "Write a matrix as CSV: theme-theme co-occurrence, theme-case (framework) or "
                                      "theme-document.")
    _inputs(p)
    _graph_options(p)
    p.add_argument("--kind", choices=MATRICES, default="theme-theme",
                   help="which matrix (default: theme-theme); claim-case and claim-theme are the evidence map of "
                        "the claims (see --claims)")
    _claims_option(p, "the claims file, for --kind claim-case and claim-theme (default: claims.yaml beside the "
                      "codebook)")
    p.add_argument("-o", "--output", default="-", metavar="FILE.csv", help="output file, or - (default)")

    p = command("agree", cmd_agree, "Agreement of the automatic coding with human coders, or between coders: per code "
                                    "and overall, with bootstrap intervals and every disagreement.")
    p.add_argument("coders", nargs="*", default=[DEFAULT_CODINGS], metavar="FILE",
                   help="coder files (manual coding files, the agreement CSV, REFI-QDA .qdpx projects) or folders "
                        "of them (default: codings)")
    p.add_argument("--corpus", default="corpus", help="the corpus folder or file (default: corpus)")
    p.add_argument("--codebook", default="codebook.yaml", help="the codebook (default: codebook.yaml)")
    p.add_argument("--no-rules", action="store_true", help="compare the coders with each other only, without the "
                                                          "automatic coding")
    p.add_argument("--coder", action="append", default=[], metavar="NAME",
                   help="only this coder (repeat for several; default: every coder in the files)")
    p.add_argument("--codes", default=None, help="codes to compare, comma-separated (default: those at least two "
                                                  "raters use on the units read)")
    p.add_argument("--unit", choices=("segment", "paragraph", "document"), default="segment",
                   help="the unit of agreement (default: segment)")
    p.add_argument("--reference", default=None, metavar="RATER",
                   help="the rater taken as right for precision, recall and F1 (default: the first coder by name; "
                        "'rules' is the automatic coding)")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples of units (default: 1000; 0: none)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
    p.add_argument("--confidence", type=float, default=0.95, help="interval level (default: 0.95)")
    p.add_argument("--format", choices=("text", "json", "csv"), default="text", help="output format (default: text)")
    p.add_argument("--table", choices=("codes", "raters", "pairs", "disagreements"), default="codes",
                   help="with --format csv: the figures per code (default), the breakdown per rater, the figures "
                        "of every pair of raters, or the disagreement list")
    p.add_argument("-o", "--output", default="-", metavar="FILE", help="output file, or - (default)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="processes to code with (default: 1)")
    p.add_argument("--model", default=None, help="an installed spaCy pipeline to use instead of the offline one")
    _skip_unreadable(p)
    p = command("claims", cmd_claims, "List the claims of claims.yaml with their anchors, themes, cases and evidence "
                                      "counts; --candidates lists the findings the paper marks, ready to adopt.")
    _inputs(p, coding=False)
    _claims_option(p, "the claims file (default: claims.yaml beside the codebook)")
    _store_options(p)
    p.add_argument("--candidates", action="store_true",
                   help="list candidate claims instead: the paper's emphasised passages and lists of findings, with "
                        "stable ids and a ready-to-paste claims.yaml entry")
    p.add_argument("--format", choices=("text", "json", "yaml"), default="text",
                   help="text (default), json for tools, yaml (with --candidates: the entries alone)")
    p.add_argument("-o", "--output", default="-", metavar="FILE", help="output file, or - for standard output (default)")

    p = command("trace", cmd_trace, "Trace one claim: its anchors with the matched words highlighted, the codes on "
                                    "them and who applied each, its cases, then its evidence by stance.")
    p.add_argument("claim_id", metavar="CLAIM_ID", help="the id of a claim in claims.yaml")
    _inputs(p, coding=False)
    _claims_option(p, "the claims file (default: claims.yaml beside the codebook)")
    _store_options(p)
    p.add_argument("--limit", type=int, default=10, help="related passages to show (default: 10)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (default; coloured on a terminal), json for tools")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the text: auto (on a terminal, default), always, never")
    p.add_argument("-o", "--output", default="-", metavar="FILE", help="output file, or - for standard output (default)")

    p = command("report", cmd_report, "Write the evidence report: one self-contained HTML file (codebook, matrices, "
                                      "documents with their coded passages, audit trail) to open from disk.")
    _inputs(p, coding=False)
    _graph_options(p)
    _claims_option(p, "the claims file (default: claims.yaml beside the codebook, when it exists; '' for none)")
    p.add_argument("-o", "--output", default="report.html", metavar="FILE.html",
                   help="output file (default: report.html)")
    _store_options(p)

    p = command("run", cmd_run, "The main job: code the corpus and write the coding, the graph in every format and "
                                "the matrices into one folder (and the claims outputs when there are claims).")
    _inputs(p, coding=False)
    _graph_options(p)
    _claims_option(p, "the claims file (default: claims.yaml beside the codebook, when it exists; '' for none)")
    p.add_argument("-o", "--output", default="out", metavar="DIR", help="output folder (default: out)")
    _store_options(p)

    p = command("segments", cmd_segments, "Retrieve coded segments from the project store: each passage with doc:line, "
                                          "its codes and who applied them.")
    _retrieval_inputs(p)
    p.add_argument("--code", action="append", default=[], metavar="C",
                   help="only passages with this code or one of its sub-codes; repeat for any of several")
    p.add_argument("--case", default=None, metavar="X",
                   help="only passages naming or set in this case (or a case in it)")
    p.add_argument("--docs", default=None, metavar="KIND|PREFIX",
                   help="only these documents, comma-separated: document kinds (interview, paper) or id prefixes")
    p.add_argument("--source", default=None, metavar="S", help="only passages with a coding of this source: rule, "
                                                               "manual, imported, suggested")
    p.add_argument("--text", default=None, metavar="REGEX", help="only passages whose text matches (case-insensitive)")
    p.add_argument("--format", choices=("text", "json", "csv"), default="text", help="output format (default: text)")

    p = command("kwic", cmd_kwic, "Keyword in context: every occurrence of a term (on lemmas, like codebook terms) or "
                                  "every span of a code, aligned, with doc:line.")
    _retrieval_inputs(p)
    p.add_argument("term", nargs="?", default=None, help="the word or phrase to look for (or give --code)")
    p.add_argument("--code", default=None, metavar="C", help="show the spans coded C (or a sub-code) instead of a term")
    p.add_argument("--docs", default=None, metavar="KIND|PREFIX",
                   help="only these documents, comma-separated: document kinds or id prefixes")
    p.add_argument("--width", type=int, default=40, help="characters of context on each side (default: 40)")
    p.add_argument("--format", choices=("text", "json", "csv"), default="text", help="output format (default: text)")

    p = command("stats", cmd_stats, "Per code, segments and documents by source; per pattern, how often it fired; "
                                    "patterns that never fire or fire on a large share of segments.")
    _retrieval_inputs(p)
    p.add_argument("--broad", type=float, default=None, metavar="SHARE",
                   help="call a pattern over-broad above this share of segments (default: 0.25)")
    p.add_argument("--format", choices=("text", "json", "csv"), default="text",
                   help="output format (default: text; csv lists the patterns)")

    p = command("diff", cmd_diff, "What changed between two runs in the store: codings gained and lost per code, each "
                                  "with its passage and the pattern responsible.")
    p.add_argument("runs", nargs="*", type=int, metavar="RUN", help="run ids A and B (default: the last two runs; "
                                                                    "one id: that run against the last; "
                                                                    "-1 is the last run, -2 the one before)")
    p.add_argument("--codebook", default="codebook.yaml",
                   help="the codebook, to find the store (default: codebook.yaml)")
    p.add_argument("--store", default=None, metavar="PATH",
                   help="the project store (default: .qualcode/project.sqlite beside the codebook)")
    p.add_argument("--format", choices=("text", "json", "csv"), default="text", help="output format (default: text)")

    p = command("export", cmd_export, "Export for other QDA software (REFI-QDA): OUTPUT.qdc writes the codebook, "
                                      "OUTPUT.qdpx the coded project (ATLAS.ti, NVivo, MAXQDA, QualCoder).")
    p.add_argument("output", metavar="OUTPUT.qdc|OUTPUT.qdpx", help="the file to write; its suffix picks what")
    _inputs(p, coding=False)
    _claims_option(p, "for a .qdpx: the claims to export as notes linked to their passages (default: claims.yaml "
                      "beside the codebook, when it exists; '' for none)")

    p = command("import", cmd_import, "Import from other QDA software (REFI-QDA): a codebook (.qdc) into "
                                      "codebook.yaml, or a hand-coded project (.qdpx) as coder files under codings/.")
    p.add_argument("input", metavar="FILE.qdc|FILE.qdpx", help="the REFI-QDA codebook or project to read")
    p.add_argument("--codebook", default="codebook.yaml",
                   help="the codebook to merge codes into, or to create (default: codebook.yaml)")
    p.add_argument("--corpus", default="corpus", help="the corpus folder the project's sources are matched to "
                                                      "(default: corpus)")
    p.add_argument("--codings", default=DEFAULT_CODINGS, metavar="DIR",
                   help="folder for the imported coder files (default: codings)")
    p.add_argument("--codes-only", action="store_true", help="from a .qdpx, merge only its codes into the codebook")
    _skip_unreadable(p)
    return parser


def _store_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", default=None, metavar="PATH",
                   help="the project store to update and reuse unchanged codings from (default: "
                        ".qualcode/project.sqlite beside the codebook)")
    p.add_argument("--no-store", action="store_true", help="code everything and leave the project store alone")
    p.add_argument("--keep-runs", type=int, default=None, metavar="N",
                   help="keep the codings of the last N runs in the store, for 'qualcode diff' "
                        f"(default: {KEEP_RUNS}; older runs keep only their record)")


def _retrieval_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", default="corpus", help="the corpus folder (default: corpus)")
    p.add_argument("--codebook", default="codebook.yaml", help="the codebook (default: codebook.yaml)")
    p.add_argument("--store", default=None, metavar="PATH",
                   help="the project store (default: .qualcode/project.sqlite beside the codebook); coded first "
                        "when missing or not of the current files")
    p.add_argument("--model", default=None, help="an installed spaCy pipeline to use instead of the offline one")
    p.add_argument("-j", "--jobs", type=int, default=1,
                   help="processes to code with, when coding is needed (default: 1)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or summary on standard error")


def _inputs(p: argparse.ArgumentParser, *, coding: bool = True) -> None:
    p.add_argument("--corpus", default="corpus", help="the corpus folder or file (default: corpus)")
    p.add_argument("--codebook", default="codebook.yaml", help="the codebook (default: codebook.yaml)")
    if coding:
        p.add_argument("--coding", default=None, metavar="FILE",
                       help="use a coding file written by 'qualcode code' instead of coding the corpus again")
    p.add_argument("--codings", default=None, metavar="DIR",
                   help="folder of manual codings, one file per coder (default: codings/ if it exists; '' for none)")
    p.add_argument("--source", choices=SOURCES, default=None,
                   help="which codings to use: rule (the codebook), manual (the coders) or combined (both, manual "
                        "wins; the default)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="processes to code with (default: 1)")
    p.add_argument("--model", default=None, help="an installed spaCy pipeline to use instead of the offline one")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or summary on standard error")
    _skip_unreadable(p)


def _claims_option(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--claims", default=None, metavar="FILE", help=help)


def _claims_path(args: argparse.Namespace) -> str:
    """--claims, else claims.yaml beside the codebook."""
    if args.claims:
        return args.claims
    return str(Path(args.codebook).parent / "claims.yaml")


def _suggest_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", default="corpus", help="the corpus folder or file (default: corpus)")
    p.add_argument("--codebook", default="codebook.yaml", help="the codebook (default: codebook.yaml)")
    p.add_argument("--codings", default=None, metavar="DIR",
                   help="folder of manual codings, one file per coder (default: codings/ if it exists; '' for none)")
    p.add_argument("--model", default=None, metavar="DIR",
                   help="a local ONNX sentence encoder: a folder with model.onnx and tokenizer.json (default: the "
                        "bundled all-MiniLM-L6-v2 int8)")
    p.add_argument("--min-score", type=float, default=0.0, help="only suggestions scoring at least this (default: 0; "
                                                                  "each theme's threshold applies in any case)")
    p.add_argument("--store", default=None, metavar="PATH",
                   help="the project store: codings reused when unchanged, embeddings cached by text and model "
                        "(default: .qualcode/project.sqlite beside the codebook)")
    p.add_argument("--no-store", action="store_true", help="code and embed everything; leave the store alone")
    p.add_argument("-j", "--jobs", type=int, default=1, help="processes to code with (default: 1)")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary on standard error")
    _skip_unreadable(p)


def _skip_unreadable(p: argparse.ArgumentParser) -> None:
    p.add_argument("--skip-unreadable", action="store_true",
                   help="skip corpus files and folders that cannot be read (with a warning) instead of failing")


def _graph_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--unit", choices=UNITS, default="paragraph", help="co-occurrence unit (default: paragraph)")
    p.add_argument("--roll-up", default=None, metavar="KIND",
                   help="count each case under its ancestor of this kind, e.g. state (default: no roll-up)")
    p.add_argument("--where", action="append", default=[], metavar="KEY=VALUE",
                   help="only documents whose front matter has this value, e.g. sector=furniture; repeat: "
                        "values of one key are alternatives, different keys must all match")


# -- commands ---------------------------------------------------------------------------------

def cmd_code(args: argparse.Namespace) -> int:
    from .output import format_for, write_coding
    from .project import code_project

    _check_outputs(args, [args.output])
    if args.suggestions == "include":  # before any coding: say at once when the extra is missing
        from .embed import require_extra

        require_extra()
    result = _code(args, code_project, explain=args.explain)
    if args.suggestions == "include":
        from .suggest import include_suggestions

        include_suggestions(result, model=args.suggest_model, store=_store_path(args), codings=_codings_dir(args))
    fmt = args.format or format_for(args.output)
    write_coding(result.segments, args.output, format=fmt, trail=result.trail)
    _summary(args, result, [args.output] if args.output != "-" else [])
    return EXIT_OK


def cmd_suggest(args: argparse.Namespace) -> int:
    from .suggest import write_suggestions

    _check_outputs(args, [args.output])
    result = _suggest(args)
    fmt = args.format or ("csv" if str(args.output).lower().endswith(".csv") else "json")
    write_suggestions(result.suggestions, args.output, format=fmt)
    if not args.quiet:
        print(f"{len(result.suggestions)} suggestion(s) on {len(result.coding.segments)} segments "
              f"(model {result.suggester.encoder.id}; {result.embedded} text(s) embedded, the rest from the store)",
              file=sys.stderr)
        if args.output != "-":
            print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_review(args: argparse.Namespace) -> int:
    from .learn import Proposer
    from .review import Review, apply_decisions, apply_decisions_file, pending, read_decisions, terminal_loop

    by_id = bool(args.accept or args.reject)
    if args.decisions and by_id:
        raise QualcodeError("give either --decisions FILE or --accept/--reject ids, not both")
    if args.as_example and not (args.decisions or by_id):
        raise QualcodeError("--as-example applies to --accept and --decisions; on the terminal, press e")
    if not args.decisions and not args.coder:
        raise QualcodeError("--coder NAME is needed: the reviewer's name (writes codings/NAME.csv)")
    folder = _codings_dir(args) or DEFAULT_CODINGS
    learn = "example" if args.as_example else ""
    result = _suggest(args, codings=folder if Path(folder).is_dir() else None)
    codebook = Path(args.codebook)
    if args.decisions:
        counts = apply_decisions_file(args.decisions, result.suggestions, folder, args.coder, codebook=codebook,
                                      learn=learn)
        if not args.quiet:
            print(f"{counts['accept']} accepted, {counts['reject']} rejected from {args.decisions}", file=sys.stderr)
        return EXIT_OK
    review = Review(Path(folder), args.coder, codebook, Proposer(result.coding.segments, result.coding.codebook))
    if by_id:
        apply_decisions(review, result.suggestions, args.accept, args.reject, learn=learn)
        if not args.quiet:
            print(f"{len(args.accept)} accepted, {len(args.reject)} rejected by {args.coder}", file=sys.stderr)
        return EXIT_OK
    if not sys.stdin.isatty():
        raise QualcodeError("qualcode review needs a terminal for the one-at-a-time review; from a script, "
                            "give --decisions FILE.csv, or --accept ID ... and --reject ID ... (ids from "
                            "'qualcode suggest')")
    queue = pending(result.suggestions, read_decisions(folder, args.coder))
    if not queue:
        print("nothing to review: no suggestion left that this coder has not decided on", file=sys.stderr)
        return EXIT_OK
    labels = {c.id: c.label for c in result.coding.codebook.codebook.codes.values()}
    with _keys() as read_key:
        counts = terminal_loop(review, queue, labels, read_key, lambda text: print(text, end="", flush=True))
    print(f"\n{counts['accept']} accepted, {counts['reject']} rejected, {counts['skip']} skipped; "
          f"{len(queue) - sum(counts.values())} left", file=sys.stderr)
    return EXIT_OK


def _suggest(args: argparse.Namespace, **override: Any) -> Any:
    from .suggest import suggest_project

    if args.jobs < 1:
        raise QualcodeError(f"--jobs must be 1 or more, not {args.jobs}")
    options = {"codings": _codings_dir(args), **override}
    return suggest_project(args.corpus, args.codebook, model=args.model, min_score=args.min_score,
                           store=_store_path(args), jobs=args.jobs, skip_unreadable=args.skip_unreadable, **options)


@contextlib.contextmanager
def _keys() -> Iterator[Callable[[], str]]:
    """Key presses from the terminal, one at a time without Enter: the terminal stays in
    cbreak mode for the whole review, so keys typed ahead of a prompt are kept and not
    echoed (switching modes per key dropped or echoed them); restored on the way out."""
    import termios
    import tty

    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    tty.setcbreak(fd, termios.TCSANOW)
    try:
        yield lambda: os.read(fd, 1).decode("utf-8", "replace")
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, old)


def cmd_check(args: argparse.Namespace) -> int:
    from .project import check_project

    report = check_project(args.codebook, args.corpus or None, model=args.model, codings=_codings_dir(args),
                           skip_unreadable=args.skip_unreadable)
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for problem in report.problems:
        print(f"error: {problem}", file=sys.stderr)
    if not report.ok:
        print(f"{len(report.problems)} problem(s) found", file=sys.stderr)
        return EXIT_BAD_INPUT
    from .fileio import open_output

    with open_output("-") as out:
        print(f"ok: {report.codes} codes, {report.cases} cases, {report.patterns} patterns; "
              f"{report.documents} documents", file=out)
    return EXIT_OK


def cmd_graph(args: argparse.Namespace) -> int:
    from .export import graph_outputs, write_graph
    from .fileio import staged_outputs
    from .graph import build_graph

    _check_outputs(args, graph_outputs(args.output))
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()] if args.kinds else None
    docs = [d.strip() for d in args.docs.split(",") if d.strip()] if args.docs else None
    claims = _default_claims(args)
    if args.with_evidence and not claims:
        raise QualcodeError("--with-evidence adds the claims' passages: give the claims with --claims FILE")
    where = _where(args.where)
    segments, codebook, documents, study = _coded_claims(args) if claims else (*_coded(args), None)
    graph = build_graph(segments, codebook, documents, unit=args.unit, roll_up=args.roll_up,
                        min_weight=args.min_weight, min_count=args.min_count, kinds=kinds, docs=docs,
                        where=where, include_nested=args.include_nested)
    if study is not None:
        from .claim_map import add_claims
        from .graph import selected_documents

        add_claims(graph, study.claims, study.index, with_evidence=args.with_evidence,
                   documents=selected_documents(segments, documents, docs=docs, where=where))
    with staged_outputs():  # all files or none
        for path in args.output:
            write_graph(graph, path)
    if not args.quiet:
        print(f"graph: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges -> "
              f"{', '.join(args.output)}", file=sys.stderr)
    return EXIT_OK


def cmd_matrix(args: argparse.Namespace) -> int:
    from .export import write_matrix

    _check_outputs(args, [args.output])
    where = _where(args.where)
    if args.kind in CLAIM_MATRICES:
        from .claim_map import claim_matrix_rows
        from .export.tables import csv_text, write_text

        study = _coded_claims(args)[3]
        write_text(csv_text(claim_matrix_rows(args.kind, study.claims, study.index)), args.output)
        if not args.quiet and args.output != "-":
            print(f"matrix {args.kind} -> {args.output}", file=sys.stderr)
        return EXIT_OK
    segments, codebook, documents = _coded(args)
    write_matrix(args.kind, segments, codebook, documents, args.output, unit=args.unit, roll_up=args.roll_up,
                 where=where)
    if not args.quiet and args.output != "-":
        print(f"matrix {args.kind} -> {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_agree(args: argparse.Namespace) -> int:
    from .agree import agree, render
    from .fileio import check_outputs, open_output

    check_outputs([args.output], [args.codebook, *args.coders], corpus=args.corpus)
    codes = [c.strip() for c in args.codes.split(",") if c.strip()] if args.codes else None
    result = agree(args.corpus, args.codebook, args.coders, rules=not args.no_rules, only=args.coder or None,
                   codes=codes, unit=args.unit, reference=args.reference, resamples=args.resamples, seed=args.seed,
                   confidence=args.confidence, model=args.model, jobs=args.jobs,
                   skip_unreadable=args.skip_unreadable)
    with open_output(args.output) as out:
        out.write(render(result, args.format, args.table))
    return EXIT_OK


def cmd_claims(args: argparse.Namespace) -> int:
    from .fileio import open_output

    _check_outputs(args, [args.output])
    if args.candidates:
        from .candidates import candidates_project, candidates_text, candidates_yaml

        found = candidates_project(args.corpus, skip_unreadable=args.skip_unreadable)
        if args.format == "json":
            from dataclasses import asdict

            from .claims_output import dumps

            text = dumps({"candidates": [{**asdict(c), "yaml": c.yaml()} for c in found]})
        else:
            text = candidates_yaml(found) if args.format == "yaml" else candidates_text(found)
    else:
        if args.format == "yaml":
            raise QualcodeError("--format yaml is for --candidates; use text or json")
        study = _study(args, cache=True)
        from .claims_output import claims_records, claims_text, dumps

        text = (dumps(claims_records(study.claims, study.index)) if args.format == "json"
                else claims_text(study.claims, study.index, colour=_colour(args)))
        _store_note(args, study)
    with open_output(args.output) as out:
        out.write(text)
    return EXIT_OK


def cmd_trace(args: argparse.Namespace) -> int:
    from .fileio import open_output

    _check_outputs(args, [args.output])
    if args.limit < 0:
        raise QualcodeError(f"--limit must be 0 or more, not {args.limit}")
    study = _study(args, claim_id=args.claim_id, cache=True)
    from .claims_output import dumps, trace_record, trace_text
    from .evidence import trace

    _store_note(args, study)
    t = trace(args.claim_id, study.claims, study.index, limit=args.limit, name=_claims_path(args))
    text = dumps(trace_record(t, study.index)) if args.format == "json" else trace_text(
        t, study.index, colour=_colour(args))
    with open_output(args.output) as out:
        out.write(text)
    return EXIT_OK


def _store_note(args: argparse.Namespace, study: Any) -> None:
    """One line on standard error (unless quiet): whether the study came from the claims
    cache, the codings from the project store, or which documents were coded again because
    it was missing, stale or not used."""
    if args.quiet:
        return
    result = study.result
    if result is None:
        n = len(study.index.coded.documents)
        what = ("claims file changed: its claims linked again over the evidence index of the claims cache"
                if study.relinked else "claims and evidence read from the claims cache")
        print(f"{args.command}: {what} {study.cached} ({n} documents unchanged)", file=sys.stderr)
        return
    total = result.recoded + result.unchanged
    if result.store is None:
        note = f"no project store used: coded all {len(result.documents)} documents"
    elif result.recoded == 0:
        note = f"codings read from the store {result.store} ({total} documents unchanged)"
    else:
        why = "codebook changed" if result.codebook_changed else "store missing or stale"
        note = (f"{why}: coded {result.recoded} of {total} documents again, the others from the store "
                f"{result.store}")
    print(f"{args.command}: {note}", file=sys.stderr)


def _colour(args: argparse.Namespace) -> bool:
    choice = getattr(args, "color", "auto")
    if choice != "auto":
        return choice == "always"
    return args.output == "-" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _study(args: argparse.Namespace, claim_id: str | None = None, cache: bool = False) -> Any:
    """The coded corpus with the claims linked (--claims, else claims.yaml beside the codebook);
    ``cache``: from the claims cache when current (``study.result`` is then None)."""
    store = _store_path(args)
    if cache and store is not None and not args.skip_unreadable and args.jobs >= 1:
        from .claims_cache import cached_study  # before importing the coding modules: they are not needed

        found = cached_study(args.corpus, args.codebook, _claims_path(args), store=store,
                             source=args.source or "combined", model=args.model, codings=_codings_dir(args),
                             claim_id=claim_id)
        if found is not None:
            return found
    from .project import claims_project

    return _code(args, lambda corpus, codebook, **kw: claims_project(corpus, codebook, _claims_path(args),
                                                                     claim_id=claim_id,
                                                                     cache="write" if cache else "off", **kw))


def _default_claims(args: argparse.Namespace) -> str | None:
    """The claims file of graph: --claims FILE; else claims.yaml beside the codebook when it
    exists and no saved coding file is given (--coding holds no codings for claims); '' none."""
    if args.claims is not None:
        return args.claims or None
    if getattr(args, "coding", None):
        return None
    path = _claims_path(args)
    if Path(path).is_file():
        args.claims = path
        return path
    return None


def _coded_claims(args: argparse.Namespace) -> tuple[list, Any, dict, Any]:
    """Like _coded (a coding file is refused: claims need the codings), with the claims study."""
    if getattr(args, "coding", None):
        raise QualcodeError("claims need the codings of the corpus, which a saved coding file (--coding) does not "
                            "hold: leave out --coding")
    study = _study(args)
    r = study.result
    return r.segments, r.codebook.codebook, {d.id: d for d in r.documents}, study


def cmd_report(args: argparse.Namespace) -> int:
    from .report import report_project

    _check_outputs(args, [args.output])
    where = _where(args.where)
    claims = None if args.claims == "" else _claims_path(args)
    if args.claims and not Path(args.claims).exists():
        raise QualcodeError(f"{args.claims}: claims file not found")
    result = _code(args, lambda corpus, codebook, **kw: report_project(
        corpus, codebook, args.output, unit=args.unit, roll_up=args.roll_up, where=where, claims=claims, **kw))
    _summary(args, result, [args.output] if args.output != "-" else [])
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from .project import run_project

    where = _where(args.where)
    claims = None if args.claims == "" else _claims_path(args)
    report = _code(args, lambda corpus, codebook, **kw: run_project(
        corpus, codebook, args.output, unit=args.unit, roll_up=args.roll_up, where=where, claims=claims,
        claims_required=bool(args.claims), **kw))
    _summary(args, report.result, [str(f) for f in report.files])
    return EXIT_OK


def cmd_segments(args: argparse.Namespace) -> int:
    from .retrieve import find_segments, render_passages

    with _current(args) as db:
        passages = find_segments(db, codes=args.code, case=args.case, docs=_split(args.docs), source=args.source,
                                 text=args.text)
    sys.stdout.write(render_passages(passages, args.format, color=sys.stdout.isatty(), codes=args.code))
    if not args.quiet:
        print(f"{len(passages)} passage(s) in {len({p.doc for p in passages})} document(s)", file=sys.stderr)
    return EXIT_OK


def cmd_kwic(args: argparse.Namespace) -> int:
    from .retrieve import kwic_code, kwic_term, render_kwic

    if (args.term is None) == (args.code is None):
        raise QualcodeError("kwic: give a TERM or --code C (one of them)")
    with _current(args) as db:
        lines = kwic_code(db, args.code, docs=_split(args.docs)) if args.code else \
            kwic_term(db, args.term, model=args.model, docs=_split(args.docs))
    sys.stdout.write(render_kwic(lines, args.format, width=args.width, color=sys.stdout.isatty()))
    if not args.quiet:
        print(f"{len(lines)} occurrence(s)", file=sys.stderr)
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from .codebook import load_codebook
    from .retrieve import BROAD_SHARE, code_stats, render_stats

    if args.broad is not None and not 0 < args.broad <= 1:
        raise QualcodeError(f"--broad is a share of segments between 0 and 1 (0.25 is a quarter), not {args.broad:g}")
    with _current(args) as db:
        stats = code_stats(db, load_codebook(args.codebook),
                           broad_share=BROAD_SHARE if args.broad is None else args.broad)
    sys.stdout.write(render_stats(stats, args.format))
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from .diff import diff_runs, render_diff
    from .store import default_store_path, open_store

    if len(args.runs) > 2:
        raise QualcodeError("diff takes at most two runs: RUN_A RUN_B")
    path = Path(args.store) if args.store else default_store_path(args.codebook)
    if not path.exists():
        raise QualcodeError(f"{path}: no project store (run 'qualcode code' or 'qualcode run' to make one)")
    with open_store(path) as db:
        diff = diff_runs(db, *args.runs)
    sys.stdout.write(render_diff(diff, args.format))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from .refi.project import export_refi

    if args.jobs < 1:
        raise QualcodeError(f"--jobs must be 1 or more, not {args.jobs}")
    report = export_refi(args.output, args.corpus, args.codebook, codings=_codings_dir(args),
                         source=args.source or "combined", jobs=args.jobs, model=args.model,
                         skip_unreadable=args.skip_unreadable,
                         claims=None if args.claims == "" else _claims_path(args), claims_required=bool(args.claims))
    if not args.quiet:
        if report.documents or report.codings:
            claims = f", {report.claims} claims of {report.claims_file} as notes" if report.claims_file else ""
            print(f"exported {report.codes} codes, {report.documents} documents, {report.codings} codings by "
                  f"{', '.join(report.coders)}{claims} -> {report.output}", file=sys.stderr)
        else:
            print(f"exported {report.codes} codes -> {report.output}", file=sys.stderr)
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from .refi.merge import CodebookImport
    from .refi.project import import_refi

    report = import_refi(args.input, args.corpus, args.codebook, args.codings, codes_only=args.codes_only,
                         skip_unreadable=args.skip_unreadable)
    if isinstance(report, CodebookImport):
        verb = "created" if report.created else "merged into"
        print(f"{verb} {report.output}: {len(report.added)} code(s) added, {len(report.left)} left as they were",
              file=sys.stderr)
        for name, cid in report.added:
            print(f"  added: {cid} ({name!r})", file=sys.stderr)
        for name, cid, why in report.left:
            print(f"  left: {cid} ({name!r})" + (f": {why}; the codebook's is kept" if why else ""), file=sys.stderr)
        return EXIT_OK
    for out, n in report.files.items():
        print(f"imported {n} coding(s) -> {out}", file=sys.stderr)
    if report.automatic:
        print(f"left out {report.automatic} coding(s) by 'qualcode', the codebook's rules: coding the corpus gives "
              f"them", file=sys.stderr)
    if not report.files:
        print("imported no codings: the project has no coded text selections of matched sources", file=sys.stderr)
    for u in report.unmatched:
        print(f"warning: {args.input}: source {u.name!r} ({u.selections} selection(s)) matches no corpus document: "
              f"{u.reason}", file=sys.stderr)
    for s in report.imported.skipped:
        print(f"warning: {args.input}: not imported: {s}", file=sys.stderr)
    if report.imported.notes:
        names = ", ".join(repr(n) for n in report.imported.notes[:5]) + (", ..." if len(report.imported.notes) > 5 else "")
        print(f"warning: {args.input}: not imported: {len(report.imported.notes)} note(s) ({names}): notes are memos, "
              f"not codings; qualcode's claims are kept in claims.yaml", file=sys.stderr)
    return EXIT_OK


# -- helpers ----------------------------------------------------------------------------------

def _where(pairs: list[str]) -> dict[str, list[str]] | None:
    """``--where KEY=VALUE`` options as ``{key: [values]}``; checked before any coding starts."""
    out: dict[str, list[str]] = {}
    bad = [p for p in pairs if "=" not in p or not p.split("=", 1)[0].strip()]
    if bad:
        raise QualcodeError([f"--where {p!r}: expected KEY=VALUE, e.g. --where sector=furniture" for p in bad])
    for p in pairs:
        key, value = p.split("=", 1)
        out.setdefault(key.strip(), []).append(value.strip())
    return out or None


def _check_outputs(args: argparse.Namespace, outputs: Sequence[Any]) -> None:
    """Refuse, before any work, an output that is one of this command's inputs."""
    from .fileio import check_outputs

    inputs = [getattr(args, name, None) for name in ("codebook", "coding", "claims", "store")]
    check_outputs(outputs, inputs, corpus=args.corpus)


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def _store_path(args: argparse.Namespace) -> Path | None:
    if not hasattr(args, "store") or getattr(args, "no_store", False):
        return None  # graph and matrix code without the store
    from .store import default_store_path

    return Path(args.store) if args.store else default_store_path(args.codebook)


def _current(args: argparse.Namespace) -> Any:
    """The project store, coded first when it is missing or stale (and said so)."""
    from .retrieve import current_store

    if args.jobs < 1:
        raise QualcodeError(f"--jobs must be 1 or more, not {args.jobs}")
    db, result = current_store(args.corpus, args.codebook, _store_path(args), model=args.model, jobs=args.jobs,
                               codings=_codings_dir(args))
    if result is not None:
        _summary(args, result, [])
    return db


def _code(args: argparse.Namespace, func: Callable[..., Any], **options: Any) -> Any:
    if args.jobs < 1:
        raise QualcodeError(f"--jobs must be 1 or more, not {args.jobs}")
    keep = getattr(args, "keep_runs", None)
    if keep is not None:
        if keep < 1:
            raise QualcodeError(f"--keep-runs must be 1 or more, not {keep}")
        options["keep_runs"] = keep
    return func(args.corpus, args.codebook, jobs=args.jobs, model=args.model, progress=_progress(args),
                codings=_codings_dir(args), source=args.source or "combined",
                skip_unreadable=args.skip_unreadable, store=_store_path(args), **options)


def _codings_dir(args: argparse.Namespace) -> str | None:
    """The manual codings folder: --codings, else codings/ when it exists; '' means none."""
    if getattr(args, "codings", None) is not None:  # retrieval commands have no --codings: the default folder
        return args.codings or None
    return DEFAULT_CODINGS if Path(DEFAULT_CODINGS).is_dir() else None


def _coded(args: argparse.Namespace) -> tuple[list, Any, dict]:
    """Segments, codebook and documents: from a saved coding file or by coding the corpus."""
    if args.coding:
        if args.codings or args.source:
            raise QualcodeError("--codings and --source apply when coding the corpus; a saved coding file "
                                "(--coding) is used as it was written")
        from .codebook import load_codebook
        from .corpus import load_corpus
        from .graph import segments_from_records
        from .output import read_coding_records

        segments = segments_from_records(read_coding_records(args.coding))
        codebook = load_codebook(args.codebook).codebook
        documents = ({d.id: d for d in load_corpus(args.corpus, skip_unreadable=args.skip_unreadable)}
                     if Path(args.corpus).exists() else {})
        return segments, codebook, documents
    from .project import code_project

    result = _code(args, code_project)
    return result.segments, result.codebook.codebook, {d.id: d for d in result.documents}


def _progress(args: argparse.Namespace, *, stream: Any = None,
              clock: Callable[[], float] = time.perf_counter) -> Callable[[int, int, Any], None] | None:
    """A progress callback for ``code_corpus`` writing one updating line to ``stream``
    (standard error): documents done of total, percent, words per second and time left
    (from the documents still to do), both measured from the end of the first document.
    None when quiet or ``stream`` is not a terminal. Redrawn at most ten times a second;
    the last document ends the line."""
    stream = sys.stderr if stream is None else stream
    if args.quiet or not stream.isatty():
        return None
    state = {"started": 0.0, "words": 0, "shown": -1.0}

    def show(n: int, total: int, doc: Any) -> None:
        now = clock()
        if n == 1:  # the clock starts when the first document is done: loading and compiling came before
            state["started"] = now
        else:
            state["words"] += len(doc.text.split())
        if n < total and now - state["shown"] < 0.1:
            return
        state["shown"] = now
        elapsed = now - state["started"]
        if n > 1 and elapsed > 0:
            rate = f"{state['words'] / elapsed:,.0f} words/s"
            left = _duration(elapsed * (total - n) / (n - 1))
        else:
            rate, left = "- words/s", "-" if n < total else "0:00"
        end = "\n" if n == total else ""
        print(f"\rcoding {n}/{total} documents ({100 * n // total}%), {rate}, {left} left\x1b[K",
              end=end, file=stream, flush=True)

    return show


def _duration(seconds: float) -> str:
    """``75.4`` -> ``1:15``; ``3725`` -> ``1:02:05``."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _summary(args: argparse.Namespace, result: Any, files: list[str]) -> None:
    """What was coded, with the wall time of the whole command (start-up, reading, coding,
    writing) and of the coding step."""
    if args.quiet:
        return
    from .output import summarize

    s = summarize(result.segments)
    wall = time.perf_counter() - getattr(args, "started", time.perf_counter())
    print(f"coded {s['segments']} segments in {s['documents']} documents: "
          f"{s['coded_segments']} with codes, {s['code_applications']} code applications, "
          f"{s['case_mentions']} case mentions; {wall:.1f} s in all, coding {result.seconds:.1f} s",
          file=sys.stderr)
    from .model import PERSON_SOURCES

    coders = getattr(result, "manual", None)  # without coders' codings, result.codings need not be made
    manual = [c for c in result.codings if c.source in PERSON_SOURCES] if coders or coders is None else []
    if result.source == "rule":
        print("codings: rule only (the codebook's)", file=sys.stderr)
    elif manual or result.source == "manual":
        rejected = sum(1 for c in result.codings if c.source == "rule" and c.status == "rejected")
        imported = sum(c.status == "applied" and c.source == "imported" for c in manual)
        print(f"codings: {result.source}; {sum(c.status == 'applied' for c in manual) - imported} manual"
              + (f" and {imported} imported" if imported else "")
              + f" from {len({c.coder for c in manual})} coder(s), {rejected} rule coding(s) rejected", file=sys.stderr)
    if getattr(result, "store", None) is not None:
        total = result.recoded + result.unchanged
        why = "codebook changed: " if result.codebook_changed else ""
        print(f"{why}recoded {result.recoded} of {total} documents ({result.unchanged} unchanged); "
              f"store {result.store} " + (f"(run {result.run_id})" if result.run_id else "(not updated)"),
              file=sys.stderr)
    for f in files:
        print(f"wrote {f}", file=sys.stderr)


def _flush_stdout() -> None:
    """Flush what commands printed, so a full or closed standard output is a clear error here
    rather than a failure at interpreter exit."""
    if sys.stdout is None:
        return
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as err:
        from .fileio import write_problem

        raise write_problem("standard output", err) from None


def _discard_stdout() -> None:
    """After standard output failed, point it at /dev/null so the exit flush cannot fail again."""
    if sys.stdout is None:
        return
    try:
        sys.stdout.flush()
    except OSError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass


def _show_warning(message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    print(f"warning: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
