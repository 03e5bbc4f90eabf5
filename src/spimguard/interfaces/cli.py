"""The ``spimguard`` command line: a thin layer over the engine.

Each command parses its input, calls the library and renders the result;
no scoring happens here. JSON goes to stdout, human notes and progress bars
to stderr, so output can be piped.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from spimguard.build import build_engine, build_link_analyzer
from spimguard.core.engine import Engine
from spimguard.core.errors import CorpusError, PolicyError
from spimguard.core.events import MessageEvent
from spimguard.core.policy import Policy
from spimguard.core.replay import ReplayStats, replay
from spimguard.core.scoring import ReplayScorer
from spimguard.learning.corpus import read_corpus
from spimguard.learning.model import ContentModel, ModelError
from spimguard.learning.shipped import load_shipped_model, shipped_model_path
from spimguard.state.base import Store, StoreError
from spimguard.state.ledger import Ledger
from spimguard.state.open import open_store

__all__ = ["app", "main"]

app = typer.Typer(
    help="spimguard: stops spam over instant messaging.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
policy_app = typer.Typer(help="Inspect the policy.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
keys_app = typer.Typer(help="API keys of the HTTP service (stored hashed in the ledger).",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")
err = Console(stderr=True)

PolicyOpt = Annotated[
    Path | None, typer.Option("--policy", help="Policy TOML merged over the shipped defaults.")
]


def _note(msg: str) -> None:
    """A plain line on stderr: never parsed as markup, never wrapped."""
    err.print(msg, markup=False, highlight=False, soft_wrap=True)


def _fail(msg: str, code: int = 2) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(msg)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _engine(policy: Policy, store: Store | None = None) -> Engine:
    """Build the engine; a bad setting or model is a clear error, not a traceback."""
    try:
        return build_engine(policy, store=store)
    except (PolicyError, ModelError, ValueError) as exc:
        _fail(str(exc))


def _policy(path: Path | None) -> Policy:
    try:
        return Policy.load(path)
    except PolicyError as exc:
        _fail(str(exc))


def _json(obj: Any) -> str:
    def clean(v: Any) -> Any:
        if isinstance(v, float):
            return None if math.isnan(v) else round(v, 6)
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(obj), ensure_ascii=False)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=err, transient=True)


@app.command()
def check(
    text: Annotated[str, typer.Argument(help="The message text.")],
    sender: Annotated[str, typer.Option(help="Sender id.")] = "cli-sender",
    recipient: Annotated[list[str] | None, typer.Option(help="Recipient id (repeatable).")] = None,
    trace: Annotated[bool, typer.Option(help="Add each detector's trace.")] = False,
    policy: PolicyOpt = None,
) -> None:
    """Judge one message and print the verdict as JSON."""
    engine = _engine(_policy(policy))
    msg = MessageEvent(ts=time.time(), id="cli-1", sender=sender,
                       recipients=tuple(recipient or ["cli-recipient"]), text=text)
    typer.echo(_json(engine.check(msg).to_dict(trace=trace)))


def _load_model(spec: str | None) -> ContentModel | None:
    if spec is None:
        return None
    try:
        return load_shipped_model() if spec == "shipped" else ContentModel.load(spec)
    except ModelError as exc:
        _fail(str(exc))


def _report_skipped(errors: list[tuple[int, str]], path: str) -> None:
    for line, why in errors[:20]:
        _note(f"{path}:{line}: skipped: {why}")
    if len(errors) > 20:
        _note(f"{path}: {len(errors) - 20} more lines skipped")


@app.command("eval")
def eval_cmd(
    data: Annotated[Path, typer.Option("--data", help="Labelled corpus (TSV or CSV).")],
    split: Annotated[str, typer.Option(
        help="almeida: train on the first 30%, test on the rest; "
             "cv5: stratified 5-fold CV on de-duplicated texts.")] = "almeida",
    model: Annotated[str | None, typer.Option(
        help="Score the whole file with this model (a path, or 'shipped'); no training.")] = None,
    perturb: Annotated[bool, typer.Option(help="Obfuscate the test messages first.")] = False,
    policy: PolicyOpt = None,
) -> None:
    """Measure the content model on a labelled corpus; print metrics as JSON."""
    from spimguard.evaluation import evaluate

    if split not in ("almeida", "cv5"):
        _fail(f"--split must be almeida or cv5, got {split!r}")
    try:
        corpus = read_corpus(data)
    except CorpusError as exc:
        _fail(str(exc))
    _report_skipped(corpus.errors, str(data))
    mdl = _load_model(model)
    total = len(corpus.items) if (mdl or split == "cv5") else len(corpus.items) - int(
        len(corpus.items) * 0.3)
    with _progress() as prog:
        task = prog.add_task("evaluating", total=total)
        try:
            result = evaluate(corpus, split=split, model=mdl, perturb=perturb,
                              policy=_policy(policy),
                              progress=lambda k: prog.advance(task, k))
        except ValueError as exc:
            _fail(str(exc))
    typer.echo(_json(result))


@app.command()
def train(
    out: Annotated[Path, typer.Option("--out", help="Where to write the model (.npz).")],
    data: Annotated[list[Path] | None, typer.Option(
        "--data", help="Labelled corpus (repeatable).")] = None,
    shipped: Annotated[bool, typer.Option(
        help="Train on the shipped training set: the labelled corpora and the chat ham "
             "corpora's train splits, weighted as the shipped model is.")] = False,
) -> None:
    """Train the content model from labelled corpora (deterministic)."""
    from spimguard.evaluation import train_on
    from spimguard.learning.shipped import training_set

    texts: list[str] = []
    labels: list[bool] = []
    weights: list[float] = []
    names: list[str] = []
    if shipped:
        texts, labels, weights, names = training_set()
    for path in data or []:
        try:
            corpus = read_corpus(path)
        except CorpusError as exc:
            _fail(str(exc))
        _report_skipped(corpus.errors, str(path))
        texts += corpus.texts
        labels += corpus.labels
        weights += [1.0] * len(corpus.texts)
        names.append(path.name)
    if not texts:
        _fail("no labelled message in the given files (give --data or --shipped)")
    try:
        model = train_on(texts, labels, weights=weights, sources=names)
    except ValueError as exc:
        _fail(str(exc))
    try:
        model.save(out)
    except OSError as exc:
        _fail(f"cannot write model {out}: {exc.strerror or exc}")
    _note(f"trained on {len(texts)} messages ({sum(labels)} spam); wrote {out}")


@app.command("replay")
def replay_cmd(
    events: Annotated[Path, typer.Argument(help="Event stream (JSON Lines); - for stdin.")],
    score: Annotated[bool, typer.Option(
        help="Print the spec's metrics against the ground truth instead of verdicts.")] = False,
    policy: PolicyOpt = None,
    store: Annotated[str, typer.Option(
        help="State to replay into: memory (default), sqlite:PATH or redis://HOST:PORT/DB, "
             "e.g. the Synapse module's DATA_DIR/state.sqlite, to unlock an account with an "
             "unlock event.")] = "memory",
) -> None:
    """Replay an event stream through the engine: one verdict per message line."""
    try:
        state = open_store(store)
    except (ValueError, StoreError) as exc:
        _fail(f"cannot open store {store!r}: {exc}")
    engine = _engine(_policy(policy), state)
    stats = ReplayStats()
    scorer = ReplayScorer()
    try:
        stream = sys.stdin.buffer if str(events) == "-" else open(events, "rb")  # noqa: SIM115
    except OSError as exc:
        _fail(f"cannot read {events}: {exc.strerror}")
    out = sys.stdout
    with stream:
        for message, verdict in replay(engine, stream, stats, on_event=scorer.event,
                                          on_notice=lambda n: scorer.account_action(n.user)):
            if score:
                scorer.message(message, verdict)
            else:
                out.write(_json(verdict.to_dict()) + "\n")
    close = getattr(state, "close", None)
    if close is not None:
        close()  # written before the command returns
    _report_skipped(stats.errors, str(events))
    if stats.unknown_types:
        _note(f"skipped unknown event types: {dict(stats.unknown_types)}")
    if score:
        result = scorer.result()
        result["events"] = stats.events
        result["bad_lines"] = len(stats.errors)
        result["unknown_events"] = sum(stats.unknown_types.values())
        typer.echo(_json(result))



@policy_app.command("show")
def policy_show(
    policy: PolicyOpt = None,
    signals: Annotated[bool, typer.Option(help="Also list every signal with its weight.")] = True,
) -> None:
    """Print the effective policy (defaults merged with --policy) and the signals."""
    pol = _policy(policy)
    engine = _engine(pol)  # validates signal names and detector settings first
    typer.echo(f"# effective policy: {pol.source}")
    typer.echo(_toml(pol.as_dict()))
    if signals:
        table = Table(title="signals (weight x strength = score)")
        table.add_column("signal")
        table.add_column("weight", justify="right")
        table.add_column("meaning")
        for spec in engine.explain_signals():
            table.add_row(spec.name, f"{spec.weight:g}", spec.description)
        Console().print(table)


def _toml(d: dict[str, Any], prefix: str = "") -> str:
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    for k, v in d.items():
        if isinstance(v, dict):
            tables.append((f"{prefix}{k}", v))
        else:
            lines.append(f"{k} = {json.dumps(v)}")
    for name, sub in tables:
        lines.append(f"\n[{name}]")
        lines.append(_toml(sub, f"{name}.").strip("\n"))
    return "\n".join(x for x in lines if x)


@app.command()
def urls(
    text: Annotated[str, typer.Argument(help="The message text.")],
    html: Annotated[str | None, typer.Option(help="An HTML body (Matrix formatted_body).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
    policy: PolicyOpt = None,
) -> None:
    """List the links of a message with the analysis of each."""
    from spimguard.links.extract import extract_links
    from spimguard.text import normalize

    pol = _policy(policy)
    try:
        analyzer = build_link_analyzer(pol)
    except (PolicyError, ModelError, ValueError) as exc:
        _fail(str(exc))
    weights = {s.name: s.weight for s in _engine(pol).explain_signals()}
    ex = extract_links(normalize(text).links, html)
    rows: list[dict[str, Any]] = []
    for link in ex.links:
        rep = analyzer.analyze(link)
        rows.append({
            "url": link.url, "host": link.host, "host_ascii": link.host_ascii,
            "registrable": link.parts.registrable, "suffix": link.parts.suffix,
            "ip": link.ip, "bare": link.bare, "source": link.source,
            "shown_text": link.shown_text,
            "signals": [{"name": f.name, "score": round(weights.get(f.name, 1.0) * f.strength, 3),
                         "detail": f.detail} for f in rep.findings],
        })
    if as_json:
        for row in rows:
            typer.echo(_json(row))
    else:
        table = Table(title=f"{len(rows)} link(s)" + (" (truncated)" if ex.truncated else ""))
        table.add_column("link")
        table.add_column("registrable")
        table.add_column("signals")
        for row in rows:
            sigs = "\n".join(f"{s['name']} {s['score']:+g}: {s['detail']}"
                              for s in row["signals"]) or "-"
            table.add_row(escape(str(row["url"])), escape(str(row["registrable"])), escape(sigs))
        Console(width=160).print(table)
    for scheme in ex.odd_schemes:
        _note(f"odd scheme link: {scheme}:")
    for nested in ex.nested:
        _note(f"nested URL in a query string: {nested}")


@app.command("eval-urls")
def eval_urls(
    phish: Annotated[Path, typer.Option("--phish", help="first_seen<TAB>url file of phishing "
                                        "URLs (Phishing.Database format).")],
    benign: Annotated[list[Path], typer.Option("--benign", help="Benign domain list "
                                               "(repeatable).")],
    blocklist: Annotated[list[Path] | None, typer.Option(
        "--blocklist", help="Block list(s) whose entries are excluded from the test set "
        "(default: the shipped list).")] = None,
) -> None:
    """Time-split evaluation of the URL model: train on older phishing, test on the newest 20%."""
    from spimguard.links.lists import DomainList
    from spimguard.links.shipped import DEFAULT_BLOCK, data_path
    from spimguard.links.url_eval import evaluate_urls

    paths = blocklist or [data_path(n) for n in DEFAULT_BLOCK]
    listed = DomainList(paths, name="block")
    for p in [phish, *benign]:
        if not p.exists():
            _fail(f"cannot read {p}: no such file")
    with err.status("training and scoring URLs"):
        try:
            result = evaluate_urls(phish, benign, set(listed.hosts))
        except (ValueError, OSError) as exc:
            _fail(str(exc))
    for note in result.get("notes", []):
        _note(str(note))
    typer.echo(_json(result))


@app.command()
def simulate(
    graph: Annotated[Path | None, typer.Option(
        help="Temporal messaging graph, SNAP format 'src dst ts' (e.g. CollegeMsg.txt); "
             "without it a synthetic graph is built.")] = None,
    attack: Annotated[list[str] | None, typer.Option(
        help="worm, slow_worm, stranger_bots, botnet or all (repeatable); settings after a "
             "colon, e.g. 'worm:seeds=5,click_prob=0.2'.")] = None,
    defend: Annotated[bool, typer.Option(
        "--defend/--no-defend", help="Run the engine closed loop (stopped messages are not "
        "delivered) or let everything through.")] = True,
    compare: Annotated[bool, typer.Option(help="Run both, and report the worm's reach ratio.")
                       ] = False,
    out: Annotated[Path | None, typer.Option(help="Write the event stream (JSON Lines, with "
                                             "ground truth) here.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same run).")] = 0,
    days: Annotated[float, typer.Option(help="Days simulated (the graph's busiest window).")
                    ] = 7.0,
    users: Annotated[int, typer.Option(help="Users of the synthetic graph.")] = 300,
    model: Annotated[str, typer.Option(help="heldout: a content model trained without the "
                                       "simulation's texts (honest figures); shipped.")
                     ] = "heldout",
    encrypted: Annotated[float, typer.Option(
        help="Share of conversations that are end-to-end encrypted (0 to 1): their "
             "messages carry metadata only, no text.")] = 0.0,
    policy: PolicyOpt = None,
) -> None:
    """Simulate a chat platform under attack, with or without spimguard, and print the metrics."""
    from spimguard.simulate.cli import simulate_cli

    if model not in ("heldout", "shipped"):
        _fail(f"--model must be heldout or shipped, got {model!r}")
    if not 0.0 <= encrypted <= 1.0:
        _fail(f"--encrypted must be a share between 0 and 1, got {encrypted}")
    if graph is not None and not graph.exists():
        _fail(f"cannot read {graph}: no such file")
    with err.status("simulating"):
        try:
            result = simulate_cli(graph, attack or ["all"], defend=defend, out=out, seed=seed,
                                  days=days, compare=compare, policy=policy,
                                  model=model,  # type: ignore[arg-type]
                                  n_users=users, world={"encrypted": encrypted})
        except (ValueError, OSError, PolicyError, ModelError) as exc:
            _fail(str(exc))
    typer.echo(_json(result))


DataDirOpt = Annotated[Path, typer.Option(
    "--data-dir", help="Folder of the ledger (reports, actions, keys) and the state file.")]


def _ledger(data_dir: Path) -> Ledger:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        return Ledger(data_dir / "ledger.sqlite")
    except (OSError, StoreError) as exc:
        _fail(str(exc))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes (share state through "
                                         "--store redis://...).")] = 1,
    data_dir: DataDirOpt = Path("spimguard-data"),
    store: Annotated[str, typer.Option(help="sqlite (kept across restarts), memory, "
                                       "sqlite:PATH or redis://HOST:PORT/DB.")] = "sqlite",
    policy: PolicyOpt = None,
    auth: Annotated[bool, typer.Option(help="Require API keys (bearer tokens).")] = True,
    max_concurrency: Annotated[int, typer.Option(
        help="Requests in progress per worker beyond which new ones get 503 at once "
             "(overload sheds load instead of queueing requests nobody waits for).")] = 256,
) -> None:
    """Run the HTTP service (OpenAPI at /docs); creates an admin key on first start."""
    import os

    import uvicorn

    if workers < 1:
        _fail("--workers must be at least 1")
    if policy is not None:
        _policy(policy)  # a broken policy fails here, once, not in every worker
    ledger = _ledger(data_dir)
    if auth and not ledger.keys():
        _, token = ledger.create_key("bootstrap", ["check", "admin"])
        _note(f"created the first API key (admin, shown once): {token}")
    ledger.close()
    os.environ.update({"SPIMGUARD_DATA_DIR": str(data_dir), "SPIMGUARD_STORE": store,
                       "SPIMGUARD_POLICY": str(policy or ""),
                       "SPIMGUARD_AUTH": "1" if auth else "0"})
    uvicorn.run("spimguard.interfaces.http.app:app_from_env", factory=True, host=host,
                port=port, workers=workers, log_level="info", access_log=False,
                limit_concurrency=max_concurrency)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who the key is for.")],
    scope: Annotated[list[str] | None, typer.Option(
        "--scope", help="check (integrations) and/or admin (reports, unlocks, takedowns).")
    ] = None,
    data_dir: DataDirOpt = Path("spimguard-data"),
) -> None:
    """Create a key; its token is printed once (only a hash is kept)."""
    ledger = _ledger(data_dir)
    try:
        key, token = ledger.create_key(name, scope or ["check"])
    except ValueError as exc:
        _fail(str(exc))
    print(_json({**key.to_dict(), "token": token}))


@keys_app.command("list")
def keys_list(data_dir: DataDirOpt = Path("spimguard-data")) -> None:
    """Every key (never the tokens)."""
    for key in _ledger(data_dir).keys():
        print(_json(key.to_dict()))


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key_id from keys list.")],
                data_dir: DataDirOpt = Path("spimguard-data")) -> None:
    """Revoke a key (running services stop accepting it within 2 seconds)."""
    if not _ledger(data_dir).revoke_key(key_id):
        _fail(f"no live key {key_id!r}")
    _note(f"revoked {key_id}")


@app.command()
def info() -> None:
    """Show the shipped model's provenance."""
    model = load_shipped_model()
    typer.echo(_json({"model": str(shipped_model_path()), **model.meta}))


def main() -> None:
    app()
