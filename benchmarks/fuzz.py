"""Hostile traffic against a real `vigil serve`: nothing may answer 5xx, reset or hang.

Starts `vigil serve` on 127.0.0.1 in a temporary data directory and sends --requests hostile
requests from --clients threads, each built from (--seed, its index) alone so that any one
can be replayed with --replay:

- image-<format>: every accepted format mutated (bit flips, truncation, spliced headers,
  extreme length fields, huge declared sizes, zlib and frame bombs, polyglots), sent to
  POST /v1/moderate or as an asynchronous POST /v1/assets;
- video: small MP4 and WebM clips mutated the same way, uploaded asynchronously;
- form: hostile multipart fields, file names, boundaries and headers on the upload routes;
- json: hostile JSON (and raw) bodies to every route of /openapi.json that takes a body;
- query: hostile query values on every GET route;
- path: hostile path parameters (overflowing integers, long strings, encoded slashes).

About a tenth of the requests go without a key or with a broken one; uploads use an
uploader key, the rest the admin key. Meanwhile the server's RSS (with its children) is
sampled. After sending, it waits for the job queue to drain and counts the assets that are
not in a final state. It prints a table per family, every 5xx, reset and hang with the
request that caused it, and last:

    requests=<n> 5xx=<n> resets=<n> hangs=<n> max_rss_mb=<n> stuck=<n>

Targets: 0 for 5xx, resets, hangs (no answer in 30 s) and stuck; max_rss_mb at most 1.5 x the
warm idle RSS plus the largest allowed upload (printed as rss_budget_mb).

Run: .venv/bin/python benchmarks/fuzz.py [--requests 10000] [--seed 16] [--clients 4]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests package
from tests import hostile
from tests.servers import VigilServer, start_vigil_serve
from tests.videos import clip
from vigil.settings import Settings

FINAL = {"approved", "rejected", "review", "pending", "failed"}
TIMEOUT_S = 30.0
# Families and their share of the requests. Images and videos that pass intake cost the
# worker real detector time, so they get a share the drain can finish.
FAMILIES: dict[str, float] = {
    **{f"image-{fmt.lower()}": 0.06 for fmt in hostile.FUZZ_FORMATS},
    "video": 0.03,
    "form": 0.12,
    "json": 0.20,
    "query": 0.14,
    "path": 0.15,
}
# Routes the fuzzer leaves alone: archiving moves every stored asset away, which would turn
# the stuck-asset count into a count of archived ones.
SKIPPED_ROUTES = {("POST", "/v1/archive/run")}
WAITING_JOB_STATES = {"queued", "running"}


@dataclass
class Spec:
    """One request, and enough about it to report and replay it."""

    index: int
    family: str
    method: str
    path: str
    note: str
    params: Any = None
    headers: dict[str, str | bytes] = field(default_factory=dict)
    content: bytes | None = None
    files: Any = None
    data: Any = None

    def describe(self) -> str:
        shown = self.path if len(self.path) < 120 else self.path[:117] + "..."
        return f"#{self.index} {self.family} {self.method} {shown!r} {self.note[:160]}"


@dataclass
class Context:
    """What request builders need: keys, routes and real ids to aim at."""

    seed: int
    admin_key: str
    uploader_key: str
    asset_ids: list[str]
    routes: list[tuple[str, str, dict[str, Any]]]  # (method, path template, operation)


# --- building requests ---------------------------------------------------------------------


def build(ctx: Context, index: int) -> Spec:
    rng = random.Random(f"{ctx.seed}:{index}")
    family = rng.choices(list(FAMILIES), weights=list(FAMILIES.values()))[0]
    spec = BUILDERS[family.split("-")[0]](ctx, rng, index, family)
    _authorise(spec, ctx, rng)
    return spec


def _authorise(spec: Spec, ctx: Context, rng: random.Random) -> None:
    """Uploads carry the uploader key, the rest the admin key; a tenth carry none or junk."""
    roll = rng.random()
    if roll < 0.05:
        return
    if roll < 0.10:
        junk = rng.choice(("Bearer", "Bearer x", "Basic Zm9vOmJhcg==", "Bearer " + "k" * 8000))
        spec.headers.setdefault("Authorization", junk)
        return
    uploads = spec.path in ("/v1/assets", "/v1/moderate") and spec.method == "POST"
    key = ctx.uploader_key if uploads else ctx.admin_key
    spec.headers.setdefault("Authorization", f"Bearer {key}")


def image_request(ctx: Context, rng: random.Random, index: int, family: str) -> Spec:
    fmt = family.split("-")[1].upper()
    how, payload = hostile.mutated_image(fmt, rng)
    return _upload(rng, index, family, f"{how} {len(payload)} B", payload, f"f.{fmt.lower()}")


@cache
def video_seeds() -> tuple[bytes, ...]:
    """Two one-second clips, MP4/H.264 and WebM/VP9, small enough to mutate quickly."""
    scenes = (("astronaut", 0.5), ("coffee", 0.5))
    mp4 = clip(scenes, size=(160, 128), fps=8)
    webm = clip(scenes, size=(160, 128), fps=8, fmt="webm", codec="libvpx-vp9")
    return mp4, webm


def video_request(ctx: Context, rng: random.Random, index: int, family: str) -> Spec:
    seed = rng.choice(video_seeds())
    how, payload = hostile.mutated_video(seed, rng)
    spec = _upload(rng, index, family, f"{how} {len(payload)} B", payload, "clip.mp4")
    spec.path, spec.params = "/v1/assets", {"async": "true"}
    return spec


def _upload(
    rng: random.Random, index: int, family: str, note: str, payload: bytes, name: str
) -> Spec:
    """Half synchronous /v1/moderate (nothing stored), half asynchronous stored uploads."""
    if rng.random() < 0.5:
        return Spec(index, family, "POST", "/v1/moderate", note, files={"file": (name, payload)})
    params = {"async": "true"}
    return Spec(index, family, "POST", "/v1/assets", note, params, files={"file": (name, payload)})


UPLOAD_FIELDS = (
    *("moderation", "policy", "upload_preset", "tags", "notification_url", "adapter"),
    *("region", "audience", "surface", "trust", "context", "min_confidence"),
)


def form_request(ctx: Context, rng: random.Random, index: int, family: str) -> Spec:
    path = rng.choice(("/v1/moderate", "/v1/assets"))
    spec = Spec(index, family, "POST", path, "", params={"async": "true"})
    rng.choice(FORM_ATTACKS)(spec, rng)
    return spec


def _form_fields(spec: Spec, rng: random.Random) -> None:
    fields = {name: hostile.hostile_text(rng) for name in rng.sample(UPLOAD_FIELDS, 3)}
    spec.files, spec.data = {"file": ("p.jpg", hostile.photo_jpeg())}, fields
    spec.note = "fields " + repr({k: v[:40] for k, v in fields.items()})


def _form_filename(spec: Spec, rng: random.Random) -> None:
    name = hostile.hostile_text(rng)
    content_type = rng.choice(("image/jpeg", "text/html", "", "a/b; x=" + "y" * 5000))
    spec.files = {"file": (name, hostile.photo_jpeg(), content_type)}
    spec.note = f"filename {name[:40]!r} type {content_type[:40]!r}"


def _form_no_file(spec: Spec, rng: random.Random) -> None:
    spec.data = {"file": hostile.hostile_text(rng), "policy": "default"}
    spec.headers["Content-Type"] = "application/x-www-form-urlencoded"
    spec.note = "file as a text field"


def _form_many_fields(spec: Spec, rng: random.Random) -> None:
    count = rng.choice((1_000, 20_000))
    parts = [("tags", (None, "t")) for _ in range(count)]
    spec.files = [("file", ("p.jpg", hostile.photo_jpeg())), *parts]
    spec.note = f"{count} repeated fields"


def _form_raw_multipart(spec: Spec, rng: random.Random) -> None:
    """Hand-made multipart bodies: broken boundaries, no terminator, odd part headers."""
    boundary = rng.choice(("b", "x" * 300, "", '"b"; charset=x'))
    body = rng.choice(
        (
            f"--{boundary}\r\nContent-Disposition: form-data; name=file\r\n\r\nabc".encode(),
            f"--{boundary}\r\n\r\n\r\n--{boundary}--\r\n".encode(),
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n'
            + b"X-Pad: "
            + b"h" * 100_000
            + b"\r\n\r\nabc\r\n--b--\r\n",
            b"\x00" * 1000,
            f"--{boundary}--\r\n".encode() * 1000,
        )
    )
    spec.content = body
    spec.headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    spec.note = f"raw multipart boundary {boundary[:20]!r} {body[:60]!r}"


def _form_headers(spec: Spec, rng: random.Random) -> None:
    spec.files = {"file": ("p.jpg", hostile.photo_jpeg())}
    key = rng.choice(("", "k" * 10_000, "\x7f", "é", "a" * 200, "\udcff"))
    # As raw bytes: httpx would refuse to encode the non-ASCII ones itself.
    spec.headers["Idempotency-Key"] = key.encode("utf-8", "surrogateescape")
    spec.note = f"idempotency key {key[:20]!r} ({len(key)} chars)"


def _form_oversized(spec: Spec, rng: random.Random) -> None:
    limit = _default("max_upload_bytes")
    size = rng.choice((limit, limit + 1, limit * 2))
    spec.files = {"file": ("big.jpg", b"\xff\xd8\xff\xe0" + bytes(size - 4))}
    spec.note = f"{size} B upload"


FORM_ATTACKS: list[Callable[[Spec, random.Random], None]] = [
    _form_fields,
    _form_fields,
    _form_filename,
    _form_no_file,
    _form_many_fields,
    _form_raw_multipart,
    _form_headers,
    _form_oversized,
]


def json_request(ctx: Context, rng: random.Random, index: int, family: str) -> Spec:
    bodied = [r for r in ctx.routes if r[0] in ("POST", "PUT") and r[1] not in _UPLOAD_PATHS]
    method, template, operation = rng.choice(bodied)
    path = _fill_path(template, ctx, rng, hostile_values=False)
    body, note = _json_body(operation, rng)
    spec = Spec(index, family, method, path, note, content=body)
    spec.headers["Content-Type"] = rng.choice(
        ("application/json", "application/json", "text/plain", "application/x-yaml")
    )
    if template == "/":  # the Rekognition-compatible API picks its action from a header
        spec.headers["X-Amz-Target"] = rng.choice(_AMZ_TARGETS)
    return spec


_UPLOAD_PATHS = {"/v1/assets", "/v1/moderate"}
_AMZ_TARGETS = (
    "RekognitionService.DetectModerationLabels",
    "RekognitionService.StartMediaAnalysisJob",
    "RekognitionService.GetContentModeration",
    "RekognitionService." + "X" * 500,
    "",
)


def _json_body(operation: dict[str, Any], rng: random.Random) -> tuple[bytes, str]:
    """A body shaped like the route's schema with hostile values, or no shape at all."""
    pick = rng.randrange(8)
    if pick == 0:
        depth = rng.choice((100, 1_000, 100_000))
        return hostile.nested_json(depth).encode(), f"nested json depth {depth}"
    if pick == 1:
        raw = rng.choice((b"", b"{", b"\xff\xfe{}", b'{"a": 1e999999}', b"9" * 10_000, b"\x00"))
        return raw, f"raw {raw[:40]!r}"
    if pick == 2:
        value = hostile.hostile_json(rng)
        return json.dumps(value).encode(), f"json {json.dumps(value)[:100]}"
    names = _schema_fields(operation) or ["name", "version", "url", "items", "role"]
    body = {name: hostile.hostile_json(rng) for name in rng.sample(names, min(3, len(names)))}
    text = json.dumps(body)
    return text.encode(), f"fields {text[:160]}"


SCHEMAS: dict[str, Any] = {}  # /openapi.json's components, filled by prepare()


def _schema_fields(operation: dict[str, Any]) -> list[str]:
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = json.dumps(schema.get("schema", {}))
    names: list[str] = []
    for name, component in SCHEMAS.items():
        if f'"#/components/schemas/{name}"' in ref:
            names += list(component.get("properties", {}))
    return names


def query_request(ctx: Context, rng: random.Random, index: int, family: str) -> Spec:
    gets = [r for r in ctx.routes if r[0] == "GET"]
    _, template, operation = rng.choice(gets)
    path = _fill_path(template, ctx, rng, hostile_values=False)
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    names = names or ["limit"]
    params = [(name, hostile.hostile_text(rng)) for name in names]
    if rng.random() < 0.2:  # the same parameter many times over
        params += [(names[0], "1")] * rng.choice((100, 5_000))
    note = f"query {[(n, v[:30]) for n, v in params[:4]]!r} ({len(params)} params)"
    if rng.random() < 0.2:  # raw, so that invalid percent-encodings reach the server
        raw = rng.choice(RAW_QUERIES).format(name=names[0])
        return Spec(index, family, "GET", f"{path}?{raw}", f"raw query {raw[:60]!r}")
    return Spec(index, family, "GET", path, note, params=params)


RAW_QUERIES = (
    "{name}=%ED%A0%80",
    "{name}=%FF%FE",
    "{name}=%ZZ",
    "{name}=%",
    "{name}=%00",
    "{name}",
    "=&&=&{name}==",
    "{name}[]=1&{name}[x]=2",
    "%FF=1",
)


def path_request(ctx: Context, rng: random.Random, index: int, family: str) -> Spec:
    method, template, _ = rng.choice([r for r in ctx.routes if "{" in r[1]])
    path = _fill_path(template, ctx, rng, hostile_values=True)
    return Spec(index, family, method, path, f"path from {template}")


PATH_VALUES = (
    str(2**63),
    str(2**64),
    "-1",
    "-" + "9" * 30,
    "0x10",
    "1.5",
    "9" * 5_000,
    "a" * 5_000,
    "%2F..%2F..%2Fetc%2Fpasswd",
    "..%2f",
    "%00",
    "%ZZ",
    "%C0%AF",
    "%F0%9F%92%A9",
    "%E2%80%AE",
    "%20",
    "%0D%0ASet-Cookie:x",
    "null",
    "*",
)


def _fill_path(template: str, ctx: Context, rng: random.Random, *, hostile_values: bool) -> str:
    """The template with each {parameter} replaced: by a hostile value, or by a real asset id
    or a plain word so that the request reaches the handler's body and query parsing."""
    path = template
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        name = path[start + 1 : end]
        if hostile_values and rng.random() < 0.85:
            value = rng.choice(PATH_VALUES)
        elif name == "asset_id" and ctx.asset_ids:
            value = rng.choice(ctx.asset_ids)
        else:
            value = quote(rng.choice(("default", "1", "x", "nsfw")), safe="")
        path = path[:start] + value + path[end + 1 :]
    return path


BUILDERS: dict[str, Callable[[Context, random.Random, int, str], Spec]] = {
    "image": image_request,
    "video": video_request,
    "form": form_request,
    "json": json_request,
    "query": query_request,
    "path": path_request,
}


# --- sending -------------------------------------------------------------------------------


@dataclass
class Tally:
    """Outcomes per family, and the requests that went wrong."""

    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    bad: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, spec: Spec, outcome: str, detail: str = "") -> None:
        with self.lock:
            self.counts[spec.family]["requests"] += 1
            self.counts[spec.family][outcome] += 1
            if outcome in ("5xx", "resets", "hangs"):
                self.bad.append(f"{outcome}: {spec.describe()} -> {detail[:300]}")

    def total(self, outcome: str) -> int:
        return sum(counts[outcome] for counts in self.counts.values())


_local = threading.local()


def _client() -> httpx.Client:
    if not hasattr(_local, "client"):
        _local.client = httpx.Client(timeout=TIMEOUT_S)
    client: httpx.Client = _local.client
    return client


def _raw_headers(headers: dict[str, str | bytes]) -> dict[bytes, bytes]:
    return {
        name.encode(): value if isinstance(value, bytes) else value.encode()
        for name, value in headers.items()
    }


def send(url: str, spec: Spec, tally: Tally) -> None:
    try:
        response = _client().request(
            spec.method,
            url + spec.path,
            params=spec.params,
            headers=_raw_headers(spec.headers),
            content=spec.content,
            files=spec.files,
            data=spec.data,
        )
    except httpx.LocalProtocolError as error:
        tally.add(spec, "unsendable", repr(error))  # refused by the client, never sent
        return
    except httpx.TimeoutException as error:
        tally.add(spec, "hangs", repr(error))
        return
    except httpx.TransportError as error:
        tally.add(spec, "resets", repr(error))
        return
    except (httpx.InvalidURL, UnicodeEncodeError, ValueError) as error:
        tally.add(spec, "unsendable", repr(error))  # the client refused to send it
        return
    outcome = f"{response.status_code // 100}xx"
    tally.add(spec, outcome, f"{response.status_code} {response.text[:200]}")


# --- watching the server -------------------------------------------------------------------


def tree_rss_bytes(pid: int) -> int:
    """VmRSS of the process and all its descendants (the worker may be a child)."""
    total = 0
    for process in _tree(pid):
        try:
            status = Path(f"/proc/{process}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def _tree(pid: int) -> Iterator[int]:
    yield pid
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            yield from _tree(int(child))


class RssSampler:
    """Samples the server's RSS every 100 ms in a thread; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopping.wait(0.1):
            self.peak = max(self.peak, tree_rss_bytes(self.pid))

    def __enter__(self) -> RssSampler:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join()


def wait_for_drain(server: VigilServer, deadline_s: float) -> None:
    """Until no job waits or runs, or the deadline passes."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        stats = httpx.get(f"{server.url}/v1/jobs/stats", headers=server.headers, timeout=30)
        counts = stats.json()["counts"]
        waiting = sum(sum(counts.get(state, {}).values()) for state in WAITING_JOB_STATES)
        if not waiting:
            return
        print(f"  draining: {waiting} jobs waiting or running", flush=True)
        time.sleep(5)


def asset_statuses(server: VigilServer) -> Counter[str]:
    statuses: Counter[str] = Counter()
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(
            f"{server.url}/v1/assets", params=params, headers=server.headers, timeout=30
        ).json()
        statuses.update(asset["status"] for asset in page["assets"])
        cursor = page.get("next_cursor")
        if not cursor:
            return statuses


# --- setting up ----------------------------------------------------------------------------


def prepare(server: VigilServer, seed: int) -> Context:
    """An uploader key, a few real assets to aim at, and the routes from /openapi.json."""
    headers = server.headers
    issued = httpx.post(
        f"{server.url}/v1/keys",
        json={"name": "fuzz-uploader", "role": "uploader"},
        headers=headers,
        timeout=30,
    )
    issued.raise_for_status()
    uploader = issued.json()["secret"]
    asset_ids = [_good_upload(server, uploader, fmt) for fmt in hostile.FUZZ_FORMATS]
    openapi = httpx.get(f"{server.url}/openapi.json", headers=headers, timeout=30).json()
    SCHEMAS.update(openapi["components"]["schemas"])
    routes = [
        (method.upper(), path, operation)
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
        if (method.upper(), path) not in SKIPPED_ROUTES
    ]
    return Context(seed, server.admin_key, uploader, asset_ids, routes)


def _good_upload(server: VigilServer, key: str, fmt: str) -> str:
    response = httpx.post(
        f"{server.url}/v1/assets",
        files={"file": (f"good.{fmt.lower()}", hostile.format_seed(fmt))},
        headers={"Authorization": f"Bearer {key}"},
        timeout=120,
    )
    response.raise_for_status()
    asset_id: str = response.json()["id"]
    return asset_id


def warm_up() -> None:
    """Build the cached seeds and bombs before the clock and the RSS sampling start."""
    for fmt in hostile.FUZZ_FORMATS:
        hostile.format_seed(fmt)
        hostile.huge_declared_size(fmt)
    video_seeds()
    rng = random.Random(0)
    for fmt in ("PNG", "GIF", "WEBP", "TIFF"):
        for _ in range(4):
            hostile._bomb(fmt, rng)


def server_env(workdir: Path, detectors: str) -> dict[str, str]:
    return {
        **os.environ,
        "VIGIL_DATA_DIR": str(workdir),
        "VIGIL_DETECTORS": detectors,
    }


def _default(setting: str) -> int:
    """A size setting's default; the fuzzed server runs with the defaults."""
    value: int = Settings.model_fields[setting].default
    return value


# --- reporting -----------------------------------------------------------------------------

COLUMNS = ("requests", "2xx", "4xx", "5xx", "resets", "hangs", "unsendable")


def print_table(tally: Tally) -> None:
    print(f"{'family':<12}" + "".join(f"{c:>11}" for c in COLUMNS))
    for family in sorted(tally.counts):
        counts = tally.counts[family]
        print(f"{family:<12}" + "".join(f"{counts[c]:>11}" for c in COLUMNS))


def print_problems(tally: Tally, limit: int = 60) -> None:
    for line in tally.bad[:limit]:
        print("  " + line)
    if len(tally.bad) > limit:
        print(f"  ... and {len(tally.bad) - limit} more")


# --- main ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    warm_up()
    workdir = Path(tempfile.mkdtemp(prefix="vigil-fuzz-"))
    server = start_vigil_serve(server_env(workdir, args.detectors))
    try:
        ctx = prepare(server, args.seed)
        time.sleep(2)  # let the good uploads' processing settle before measuring idle
        idle = tree_rss_bytes(server.process.pid)
        indices = [args.replay] if args.replay is not None else list(range(args.requests))
        tally = Tally()
        started = time.perf_counter()
        with RssSampler(server.process.pid) as sampler:
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(lambda i: send(server.url, build(ctx, i), tally), indices))
            sent_s = time.perf_counter() - started
            wait_for_drain(server, args.drain_timeout)
        alive = server.process.poll() is None
        statuses = asset_statuses(server) if alive else Counter({"server-died": 1})
    finally:
        server.stop()
    report(tally, statuses, idle, sampler.peak, sent_s, alive)


def report(
    tally: Tally, statuses: Counter[str], idle: int, peak: int, sent_s: float, alive: bool
) -> None:
    largest_upload = max(_default("max_upload_bytes"), _default("video_max_bytes"))
    budget = 1.5 * idle + largest_upload
    mb = 1024 * 1024
    print_table(tally)
    print_problems(tally)
    print(f"sent in {sent_s:.0f} s; server alive after the run: {alive}")
    print("asset states: " + ", ".join(f"{s}={n}" for s, n in sorted(statuses.items())))
    print(
        f"idle_rss_mb={idle / mb:.0f} largest_upload_mb={largest_upload / mb:.0f} "
        f"rss_budget_mb={budget / mb:.0f}"
    )
    stuck = sum(n for state, n in statuses.items() if state not in FINAL)
    print(
        f"requests={tally.total('requests')} 5xx={tally.total('5xx')} "
        f"resets={tally.total('resets')} hangs={tally.total('hangs')} "
        f"max_rss_mb={peak / mb:.0f} stuck={stuck}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--replay", type=int, help="send only the request of this index")
    parser.add_argument("--drain-timeout", type=float, default=900)
    parser.add_argument(
        "--detectors", default="nsfw", help="VIGIL_DETECTORS of the server (default: nsfw)"
    )
    run(parser.parse_args())


if __name__ == "__main__":
    main()
