"""Build the shipped ham chat corpora from public dialogue datasets (run once; output is committed).

Usage::

    python tools/build_chat_corpora.py \\
        --sgd      MIRROR/google-research-datasets+dstc8-schema-guided-dialogue/repo \\
        --crosswoz MIRROR/thu-coai+CrossWOZ/repo \\
        --xpersona MIRROR/HLTCHKUST+Xpersona/repo \\
        --xsid     MIRROR/mainlp+xsid/repo \\
        --xrisawoz MIRROR/stanford-oval+dialogues/repo \\
        --rusdracor MIRROR/dracor-org+rusdracor/repo \\
        [--out src/spimguard/data/corpus/chat]

Each argument is a git directory (bare mirror or ``.git``; files are read with
``git show COMMIT:path`` at the pinned commit below, or at HEAD with
``--any-commit``) or a plain checkout of the repository (files read as they are).
Only the sources given are rebuilt.

What it does, for every source (see ``corpus/chat/README.md``):

* cleaning: strip, collapse every run of whitespace holding a tab or a line
  break into one space, drop empty lines and lines over 1,000 characters, drop
  exact repeats within the source (the first one, in sampling order, is kept);
* a cap of about 25,000 lines per source, taken by whole dialogue: dialogues are
  ordered by ``sha1("order:" + key)`` and, across languages, taken round-robin
  (one dialogue of each language in turn) until the cap is reached (xSID's
  Norwegian, eleven dialect variants of each utterance, stops at 1,600 lines);
* a split by dialogue: ``sha1(key)`` as an integer modulo 100 below 70 is train,
  below 80 dev, else test, so a conversation never spans splits; translations of
  one dialogue share its key where the source aligns them;
* dev and test lose every line whose casefolded, whitespace-collapsed text is
  also in that source's train split;
* output: ``<source>.<split>.tsv``, ``ham<TAB>text`` per line, UTF-8, no header.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src/spimguard/data/corpus/chat"

CAP = 25_000
MAX_CHARS = 1000
SPLITS = ("train", "dev", "test")

#: The snapshot each source was built from (recorded in chat/README.md).
PINNED = {
    "sgd": "e852981ae34990f4358979625854259302feaa78",
    "crosswoz": "df82c9fdff91b9b130f2d6b89110d3870ba6260e",
    "xpersona": "1da049a1bbf3b01548f98cc23ba75ef871416e50",
    "xsid": "761d926c3f2e9f6bea13192d2f39cec1d04d9777",
    "xrisawoz": "a2d317843b2c92338112bc56fc279b73a01fb66f",
    "rusdracor": "b178c0401ffcf58b209104e90e38ff718f188fd8",
}


@dataclass(frozen=True, slots=True)
class Dialogue:
    key: str  # split and sampling key, shared by translations of one dialogue
    lang: str
    lines: tuple[str, ...]


class Repo:
    """Reads files from a git directory (at one commit) or from a plain checkout."""

    def __init__(self, path: Path, commit: str | None) -> None:
        self.path = path
        self.git = (path / "HEAD").is_file() and (path / "objects").is_dir()
        if self.git:
            rev = commit or "HEAD"
            self.commit = self._run("rev-parse", "--verify", rev + "^{commit}").decode().strip()
        else:
            self.commit = "(checkout)"

    def _run(self, *args: str) -> bytes:
        proc = subprocess.run(["git", "--git-dir", str(self.path), *args], capture_output=True)
        if proc.returncode != 0:
            raise SystemExit(f"git {' '.join(args)} in {self.path}: {proc.stderr.decode().strip()}")
        return proc.stdout

    def read(self, rel: str) -> bytes:
        if self.git:
            return self._run("show", f"{self.commit}:{rel}")
        return (self.path / rel).read_bytes()

    def json(self, rel: str) -> object:
        return json.loads(self.read(rel).decode("utf-8"))

    def list(self, folder: str) -> list[str]:
        """Paths of the files directly in ``folder``, sorted."""
        if self.git:
            out = self._run("ls-tree", "-z", "--name-only", f"{self.commit}:{folder}").decode()
            return sorted(f"{folder}/{name}" for name in out.split("\0") if name)
        return sorted(f"{folder}/{f.name}" for f in (self.path / folder).iterdir() if f.is_file())


# --- cleaning -----------------------------------------------------------------------------

_BREAKS = re.compile(r"[ \u00a0]*[\t\n\r\v\f\x85\u2028\u2029][\s]*")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufeff]")
_CJK = r"\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_PUNCT_GAP = re.compile(r" ([.,!?;:])(?=\s|$)")


def clean(text: str) -> str:
    text = _CONTROL.sub("", text)
    text = _BREAKS.sub(" ", text)
    return text.strip()


def norm(text: str) -> str:
    """The form compared between splits: casefolded, whitespace collapsed."""
    return " ".join(text.split()).casefold()


def sha1_int(s: str) -> int:
    return int(hashlib.sha1(s.encode("utf-8")).hexdigest(), 16)


def split_of(key: str) -> str:
    bucket = sha1_int(key) % 100
    return "train" if bucket < 70 else "dev" if bucket < 80 else "test"


# --- the sources ---------------------------------------------------------------------------


def _ranges(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out += range(int(lo), int(hi or lo) + 1)
    return out


#: SGD files used: every dialogue file of the snapshot (its files of 4 MiB and
#: more were absent), pinned so that a full clone gives the same output.
SGD_FILES = {
    "train": "1-36,38-51,57,59,61-65,67,69,86-92,95-103,105-116,119-127",
    "dev": "1-14,16,19-20",
    "test": "1-11,13-15,17-18,20-21,24-25,30,32-34",
}


def sgd(repo: Repo) -> Iterable[Dialogue]:
    for part, spec in SGD_FILES.items():
        for n in _ranges(spec):
            data = repo.json(f"{part}/dialogues_{n:03d}.json")
            assert isinstance(data, list)
            for d in data:
                lines = tuple(t["utterance"] for t in d["turns"])
                yield Dialogue(f"sgd/{part}/{d['dialogue_id']}", "en", lines)


def crosswoz(repo: Repo) -> Iterable[Dialogue]:
    # data/crosswoz/train.json.zip is over the snapshot's size limit; val and test are used.
    for part in ("val", "test"):
        with zipfile.ZipFile(io.BytesIO(repo.read(f"data/crosswoz/{part}.json.zip"))) as z:
            data = json.loads(z.read(f"{part}.json").decode("utf-8"))
        for task_id in sorted(data, key=lambda k: (len(k), k)):
            lines = tuple(m["content"] for m in data[task_id]["messages"])
            yield Dialogue(f"crosswoz/{task_id}", "zh", lines)


#: XPersona's human-checked validation and test files (the training files are
#: machine translations, and over the snapshot's size limit).
XPERSONA_FILES = {
    "en": ("En_persona_valid.json", "En_persona_test.json"),
    **{
        lang.lower(): (
            f"{lang}_persona_split_valid_human_annotated.json",
            f"{lang}_persona_split_test_human_annotated.json",
        )
        for lang in ("Fr", "Id", "It", "Jp", "Ko", "Zh")
    },
}


def xpersona(repo: Repo) -> Iterable[Dialogue]:
    for lang, (valid, test) in XPERSONA_FILES.items():
        for part, name in (("valid", valid), ("test", test)):
            data = repo.json(f"dataset/{name}")
            assert isinstance(data, list)
            for i, d in enumerate(data):
                lines: list[str] = []
                for pair in d["dialogue"]:
                    for s in pair:
                        if s == "__SILENCE__":
                            continue
                        # The English side is tokenized ConvAI2 text: "today ?" -> "today?"
                        lines.append(_PUNCT_GAP.sub(r"\1", s) if lang == "en" else s)
                # The translated files follow the English order of dialogues only roughly,
                # so the key is the file's part and index (the same for every language).
                yield Dialogue(f"xpersona/{part}/{i}", "ja" if lang == "jp" else lang,
                               tuple(lines))


XSID_LANGS = ("ar", "da", "de", "de-ba", "de-muc", "de-st", "en", "gsw", "id", "it", "ja", "kk",
              "lt", "nap", "nl", "no", "sr", "tr", "zh")


def _conll_records(text: str) -> list[dict[str, str]]:
    records: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    for line in text.split("\n"):
        if line.startswith("# ") and " = " in line:
            k, _, v = line[2:].partition(" = ")
            cur.setdefault(k.strip(), v)
        elif not line.strip():
            if cur:
                records.append(cur)
            cur = {}
    if cur:
        records.append(cur)
    return records


def xsid(repo: Repo) -> Iterable[Dialogue]:
    for part in ("valid", "test"):
        english = [r["text"] for r in _conll_records(
            repo.read(f"data/xSID-0.7/en.{part}.conll").decode("utf-8"))]
        for lang in XSID_LANGS:
            recs = _conll_records(repo.read(f"data/xSID-0.7/{lang}.{part}.conll").decode("utf-8"))
            for r in recs:
                if lang == "en":
                    source = r["text"]
                elif "text-en" in r:
                    source = r["text-en"]
                else:  # Norwegian: "# id = 300/8" is English utterance 300, dialect variant 8
                    source = english[int(r["id"].split("/")[0]) - 1]
                text = r["text"]
                if lang in ("ja", "zh"):  # tokenized CJK text: "今日 は 雨" -> "今日は雨"
                    text = _CJK_GAP.sub("", text)
                # one utterance is one "dialogue"; its translations share the English key
                yield Dialogue(f"xsid/{part}/{norm(source)}", lang, (text,))


#: X-RiSAWOZ few-shot dialogues (the validation and test files are over the
#: snapshot's size limit); the Chinese few-shot file is broken (one character a turn).
XRISAWOZ_LANGS = ("en", "fr", "hi", "ko", "enhi")


def xrisawoz(repo: Repo) -> Iterable[Dialogue]:
    for lang in XRISAWOZ_LANGS:
        data = repo.json(f"dialogues/risawoz/data/original/{lang}_fewshot.json")
        assert isinstance(data, list)
        for d in data:
            lines: list[str] = []
            for t in d["dialogue"]:
                for side in ("user_utterance", "system_utterance"):
                    value = t.get(side)
                    if isinstance(value, list) and value and isinstance(value[0], str):
                        lines.append(value[0])
            yield Dialogue(f"xrisawoz/{d['dialogue_id']}", lang, tuple(lines))


#: RusDraCor: prose speeches of the plays that the corpus marks "In the public domain" and
#: that were first made public (printed or staged; the year written where neither is
#: recorded) from 1830 to 1928. Earlier plays are in eighteenth-century language; from 1929
#: on a work can still be under copyright somewhere (posthumous first publication, United
#: States terms). Authors rehabilitated after their death are left out: under the Russian
#: Civil Code (art. 1281) their term runs from the rehabilitation.
RUSDRACOR_YEARS = (1830, 1928)
RUSDRACOR_EXCLUDED_AUTHORS = {
    "Q49080": "Isaac Babel, rehabilitated 1954",
    "Q311033": "Nikolay Gumilyov, rehabilitated 1992",
    "Q722164": "Sergei Tretyakov, rehabilitated 1956",
}
_TEI = "{http://www.tei-c.org/ns/1.0}"
_LEADING_PUNCT = re.compile(r"^[\s.,;:]+")
_SPACE_PUNCT = re.compile(r" +([.,!?;:])")
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
#: pre-1918 spelling (one play, Artsybashev's "Ревность", is partly printed in it)
_PRE_REFORM = re.compile(r"[ѣѳіѵ]|[бвгджзклмнпрстфхцчшщ]ъ(?![а-яё])", re.IGNORECASE)


def _tei_speech(el: ET.Element, out: list[str]) -> None:
    """The spoken text of ``el``: stage directions and editors' notes left out."""
    if el.text:
        out.append(el.text)
    for child in el:
        tag = child.tag.removeprefix(_TEI)
        if tag == "lb":
            out.append(" ")
        elif tag not in ("stage", "note"):
            _tei_speech(child, out)
        if child.tail:
            out.append(child.tail)


def _play_year(root: ET.Element) -> int | None:
    years: dict[str, list[int]] = {}
    for ev in root.iter(f"{_TEI}event"):
        when = ev.get("when") or ev.get("notAfter") or ev.get("notBefore")
        if when and when[:4].isdigit():
            years.setdefault(ev.get("type", ""), []).append(int(when[:4]))
    public = years.get("print", []) + years.get("premiere", [])
    return min(public) if public else min(years["written"]) if "written" in years else None


def rusdracor(repo: Repo) -> Iterable[Dialogue]:
    lo, hi = RUSDRACOR_YEARS
    for rel in repo.list("tei"):
        if not rel.endswith(".xml"):
            continue
        root = ET.fromstring(repo.read(rel))
        source = root.find(f"{_TEI}teiHeader/{_TEI}fileDesc/{_TEI}sourceDesc")
        free = source is not None and any(
            "public domain" in "".join(a.itertext()).lower()
            for a in source.iter(f"{_TEI}availability"))
        title = root.find(f"{_TEI}teiHeader/{_TEI}fileDesc/{_TEI}titleStmt")
        authors = {i.text or "" for i in title.iter(f"{_TEI}idno") if i.get("type") == "wikidata"} \
            if title is not None else set()
        year = _play_year(root)
        body = root.find(f"{_TEI}text/{_TEI}body")
        if (not free or year is None or not lo <= year <= hi
                or authors & RUSDRACOR_EXCLUDED_AUTHORS.keys() or body is None):
            continue
        lines: list[str] = []
        for sp in body.iter(f"{_TEI}sp"):
            for p in sp.findall(f"{_TEI}p"):  # prose; verse (<l>) is not used
                parts: list[str] = []
                _tei_speech(p, parts)
                text = " ".join("".join(parts).split())
                # a stage direction taken out can leave "<stage>(смеётся)</stage>. Домой."
                text = _SPACE_PUNCT.sub(r"\1", _LEADING_PUNCT.sub("", text))
                # lines wholly in French or German, and lines in the old spelling, are not used
                if _CYRILLIC.search(text) and not _PRE_REFORM.search(text):
                    lines.append(text)
        # the play is the "dialogue": its scenes share characters, so they share a split
        yield Dialogue(f"rusdracor/{rel.removeprefix('tei/').removesuffix('.xml')}", "ru",
                       tuple(lines))


SOURCES: dict[str, Callable[[Repo], Iterable[Dialogue]]] = {
    "sgd": sgd,
    "crosswoz": crosswoz,
    "xpersona": xpersona,
    "xsid": xsid,
    "xrisawoz": xrisawoz,
    "rusdracor": rusdracor,
}

#: Most lines one language may bring into a source. xSID's Norwegian has eleven
#: dialect variants of each utterance (7,000+ lines against about 800 for every
#: other language); 1,600 keeps it at twice the others.
LANG_CAP = {"xsid": 1600}


# --- building ------------------------------------------------------------------------------


def build(dialogues: Iterable[Dialogue], cap: int = CAP,
          lang_cap: int | None = None) -> dict[str, list[str]]:
    """Clean, sample (by dialogue, round-robin over languages), split and de-duplicate."""
    by_lang: dict[str, list[Dialogue]] = {}
    for d in dialogues:
        by_lang.setdefault(d.lang, []).append(d)
    queues = {
        lang: sorted(ds, key=lambda d: (sha1_int("order:" + d.key), d.key, d.lines))
        for lang, ds in sorted(by_lang.items())
    }
    seen: set[str] = set()
    out: dict[str, list[str]] = {s: [] for s in SPLITS}
    total = 0
    pos = dict.fromkeys(queues, 0)
    per_lang = dict.fromkeys(queues, 0)
    limit = cap if lang_cap is None else lang_cap

    def open_(lang: str) -> bool:
        return pos[lang] < len(queues[lang]) and per_lang[lang] < limit

    while total < cap and any(open_(lang) for lang in queues):
        for lang, q in queues.items():
            if not open_(lang) or total >= cap:
                continue
            d = q[pos[lang]]
            pos[lang] += 1
            kept = []
            for raw in d.lines:
                text = clean(raw)
                if not text or len(text) > MAX_CHARS or text in seen:
                    continue
                seen.add(text)
                kept.append(text)
            out[split_of(d.key)] += kept
            total += len(kept)
            per_lang[lang] += len(kept)
    train = {norm(t) for t in out["train"]}
    for s in ("dev", "test"):
        out[s] = [t for t in out[s] if norm(t) not in train]
    return out


def write(out_dir: Path, name: str, splits: dict[str, list[str]]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for s in SPLITS:
        body = "".join(f"ham\t{t}\n" for t in splits[s])
        (out_dir / f"{name}.{s}.tsv").write_bytes(body.encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    for name in SOURCES:
        ap.add_argument(f"--{name}", type=Path, help=f"git dir or checkout of the {name} source")
    ap.add_argument("--out", type=Path, default=OUT, help="output folder (default: %(default)s)")
    ap.add_argument("--any-commit", action="store_true",
                    help="read a git dir at HEAD instead of the pinned commit")
    args = ap.parse_args(argv)
    done = 0
    for name, reader in SOURCES.items():
        path: Path | None = getattr(args, name)
        if path is None:
            continue
        repo = Repo(path, None if args.any_commit else PINNED[name])
        splits = build(reader(repo), lang_cap=LANG_CAP.get(name))
        write(args.out, name, splits)
        counts = ", ".join(f"{s} {len(splits[s])}" for s in SPLITS)
        print(f"{name} @ {repo.commit}: {counts}")
        done += 1
    if not done:
        ap.error("give at least one source")
    return 0


if __name__ == "__main__":
    sys.exit(main())
