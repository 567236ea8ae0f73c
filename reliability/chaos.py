"""Chaos: indexing runs killed with SIGKILL at every named stage and at random moments, a disk
that fills up and a folder that turns read-only in the middle of a run.

    python -m reliability.chaos [--kills 1000] [--cli-kills 200] [--cli-minutes 40] [--minutes 85] [--out FILE]

Each trial changes a folder of small .jsonl files (new files; files rewritten with items
dropped or changed), starts an indexing run on it and kills it, then opens the index and
searches it (keyword mode: no model in this process): its ids must be exactly those of the old
state or of the new one, never a mix, never unopenable. An uninterrupted run follows and must
succeed with exactly the new state's ids (nothing lost, nothing stale), so the next trial starts
from a known state. Indexing uses merge_factor = 2 and segment_items = 32 in a copied
config, so runs write several segments and merge often (the "merged" stage is reached).

Two kinds of indexing runs:
  cli   the real `bulletin index` with the real model: each run loads torch and the model (on
        the shared 2-core machine 20-40 s a run), so only --cli-kills trials are of this kind;
  fork  the same build() (indexer/build.py, through its `embedder` parameter, which the tests
        and benchmarks use) in a process forked from this one, with a deterministic hash
        embedder instead of the model: the writes, segments, merges, tombstones and manifest
        are the indexer's own; only the vectors' values differ. Most kills are of this kind.

Full disk and read-only: the index on a small tmpfs (root only); mid-run the disk is filled
(or remounted read-only); the run must fail cleanly (exit 1, no traceback) or finish, the
index must hold the old or the new state, and a run after space is freed (or the folder is
writable again) must succeed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .corpus import Corpus, config_copy
from .results import ROOT, WORK, code_state, record

BULLETIN = Path(sys.executable).parent / "bulletin"
STAGE_KILL_SHARE = 0.5  # of the kills: at a named stage (in turn); the rest at random moments
SMALL_DISK = "32M"


# --------------------------------------------------------- the model-free embedder
class HashEmbedder:
    """Deterministic unit vectors from each passage's text: no torch, no model. Named as the
    configured model so that the real `bulletin index` accepts the index too."""

    def __init__(self, name: str, dim: int = 384) -> None:
        self.name, self.dim = name, dim

    def embed_passages(self, texts, progress=None) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for n, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            out[n] = v / np.linalg.norm(v)
        if progress:
            progress(len(texts))
        return out

    def embed_items(self, batch, progress=None):
        from search.embedding import ItemVectors

        passages = self.embed_passages(batch.texts, progress)
        sums = np.add.reduceat(passages, batch.indptr[:-1], axis=0) if len(batch.texts) else np.zeros((0, self.dim), np.float32)
        items = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        return ItemVectors(items.astype(np.float32), passages, batch.indptr, batch.spans)


# ------------------------------------------------------------------- runners
@dataclass
class Run:
    pid: int
    started: float
    log: Path
    popen: subprocess.Popen | None = None
    code: int | None = None

    def poll(self) -> int | None:
        if self.code is None:
            if self.popen is not None:
                self.code = self.popen.poll()
            else:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.code = os.waitstatus_to_exitcode(status)
        return self.code

    def wait(self, timeout: float = 1800) -> int:
        deadline = time.time() + timeout
        while self.poll() is None:
            if time.time() > deadline:
                self.kill()
                raise RuntimeError(f"indexing run {self.pid} hung for {timeout} s")
            time.sleep(0.002)
        return self.code  # type: ignore[return-value]

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def output(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""


class CliRunner:
    kind = "cli"

    def __init__(self, config: Path, index: Path, src: Path, logs: Path) -> None:
        self.config, self.index, self.src, self.logs = config, index, src, logs

    def start(self, point: str | None = None) -> Run:
        from indexer.faults import KILL_ENV

        env = {k: v for k, v in os.environ.items() if k != KILL_ENV}
        if point:
            env[KILL_ENV] = point
        log = self.logs / "cli.log"
        with log.open("w") as fh:
            popen = subprocess.Popen([str(BULLETIN), "--config", str(self.config), "--index", str(self.index), "index", str(self.src)],
                                     env=env, stdout=fh, stderr=subprocess.STDOUT)
        return Run(popen.pid, time.time(), log, popen)


class ForkRunner:
    """build() in a child forked from this process (imports done once: a run takes a fraction of a
    second instead of seconds). The child reports an OSError as the CLI does (exit 1, one line)."""

    kind = "fork"

    def __init__(self, settings, src: Path, logs: Path) -> None:
        self.settings, self.src, self.logs = settings, src, logs
        self.embedder = HashEmbedder(settings.embedding.model)

    def start(self, point: str | None = None) -> Run:
        from indexer.faults import KILL_ENV

        log = self.logs / "fork.log"
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 3
            try:
                fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                if point:
                    os.environ[KILL_ENV] = point
                else:
                    os.environ.pop(KILL_ENV, None)
                from indexer.build import build

                try:
                    build([self.src], self.settings, embedder=self.embedder)  # type: ignore[arg-type]
                    code = 0
                except OSError as exc:
                    from cli.main import _os_reason

                    os.write(2, f"写入索引失败，原索引未受影响：{_os_reason(exc)}（{exc.filename or self.settings.index.path}）\n".encode())
                    code = 1
            except BaseException:  # noqa: BLE001 - anything else is a finding: its traceback goes to the log
                os.write(2, traceback.format_exc().encode())
                code = 2
            finally:
                os._exit(code)
        return Run(pid, time.time(), log)


# ------------------------------------------------------------------ observing
@dataclass
class State:
    ids: frozenset[str] | None
    total: int | None = None
    error: str = ""


def observe(settings) -> State:
    """Open the index as the server would and search it (keyword mode: no model needed)."""
    from search.engine import SearchEngine

    try:
        engine = SearchEngine(settings)
        try:
            ids = frozenset(engine.ids)
            total = engine.search("工作", mode="keyword", limit=5)["total"]
            assert engine.stats()["items"] == len(ids)
            return State(ids, total)
        finally:
            engine.close()
    except Exception as exc:  # noqa: BLE001 - an unopenable index is what this run looks for
        return State(None, None, f"{type(exc).__name__}: {exc}")


def segment_names(index: Path) -> set[str]:
    try:
        gen = json.loads((index / "manifest.json").read_text())["generation"]
        return {s["name"] for s in json.loads((index / gen / "segments.json").read_text())}
    except (OSError, ValueError, KeyError):
        return set()


def current_generation(index: Path) -> str:
    try:
        return json.loads((index / "manifest.json").read_text())["generation"]
    except (OSError, ValueError, KeyError):
        return ""


def wait_new_generation(index: Path, run: Run, old_gen: str, timeout: float) -> bool:
    """Until a generation folder newer than old_gen exists (the run has started writing)."""
    deadline = time.time() + timeout
    while time.time() < deadline and run.poll() is None:
        try:
            if any(p.name > old_gen for p in index.iterdir() if p.name.startswith("gen-")):
                return True
        except OSError:
            pass
        time.sleep(0.002)
    return False


# --------------------------------------------------------------------- trials
@dataclass
class Tally:
    kills: int = 0
    kills_at_stage: int = 0
    kills_random: int = 0
    random_in_write_phase: int = 0
    finished_before_kill: int = 0
    bad_states: int = 0
    unopenable: int = 0
    lost_items: int = 0
    stale_items: int = 0
    stage_mismatch: int = 0  # killed before the commit point but showing the new state, or after it and the old
    total_mismatch: int = 0
    failed_runs: int = 0
    runs_with_merges: int = 0
    leftover_generations: int = 0
    old_states: int = 0
    new_states: int = 0
    by_stage: Counter = field(default_factory=Counter)
    not_reached: Counter = field(default_factory=Counter)
    by_runner: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        print("PROBLEM:", text, flush=True)
        if len(self.problems) < 50:
            self.problems.append(text[:1500])


class Chaos:
    def __init__(self, work: Path, settings, sample_items, seed: int) -> None:
        self.work, self.settings = work, settings
        self.rng = random.Random(seed)
        self.tally = Tally()
        self.durations: dict[str, list[float]] = {"cli": [], "fork": []}  # uninterrupted runs
        self.write_phase: dict[str, list[float]] = {"cli": [], "fork": []}
        self.sample_items = sample_items
        self.seed = seed

    # one trial: change, killed run, check, uninterrupted run, check
    def trial(self, runner, index: Path, corpus: Corpus, settings, old: State, point: str | None) -> State:
        t = self.tally
        corpus.mutate()
        new_ids = frozenset(corpus.expected_ids())
        old_gen, old_segments = current_generation(index), segment_names(index)
        run = runner.start(point)
        where = point or "random"
        if point is None:
            durations = self.durations[runner.kind]
            mean = sum(durations[-20:]) / len(durations[-20:]) if durations else (30.0 if runner.kind == "cli" else 0.5)
            if self.rng.random() < 0.5:  # anywhere in the run, start-up included
                time.sleep(self.rng.uniform(0, 1.2 * mean))
                where = "random (whole run)"
            else:  # once writing has begun
                phases = self.write_phase[runner.kind]
                span = sum(phases[-20:]) / len(phases[-20:]) if phases else 0.2
                if wait_new_generation(index, run, old_gen, 3600):
                    time.sleep(self.rng.uniform(0, 1.2 * span))
                where = "random (writing)"
            run.kill()
        code = run.wait()
        output = run.output()
        if code == -signal.SIGKILL:
            t.kills += 1
            t.by_runner[runner.kind] += 1
            if point:
                t.kills_at_stage += 1
                t.by_stage[point] += 1
            else:
                t.kills_random += 1
                t.by_stage[where] += 1
                t.random_in_write_phase += where == "random (writing)"
        elif code == 0:
            if point:
                t.not_reached[point] += 1  # e.g. no merge in this run
            else:
                t.finished_before_kill += 1
        else:
            t.failed_runs += 1
            t.problem(f"{runner.kind} run at {where} exited {code}: {output[-800:]}")

        seen = observe(settings)
        if code == -signal.SIGKILL:
            self._judge(seen, old, new_ids, f"after a {runner.kind} kill at {where}", point)
        else:  # finished (or failed): the new state, or the old one after a clean failure
            self._judge(seen, old, new_ids, f"after a {runner.kind} run at {where} that was not killed",
                        "finished" if code == 0 else None)
        if code == 0 and old_segments - segment_names(index):
            t.runs_with_merges += 1

        # the uninterrupted run that must succeed
        old_segments = segment_names(index)
        gen_before = current_generation(index)
        run = runner.start(None)
        wrote = wait_new_generation(index, run, gen_before, 3600)
        write_began = time.time()
        code = run.wait()
        if code != 0:
            t.failed_runs += 1
            t.problem(f"uninterrupted {runner.kind} run after a kill at {where} exited {code}: {run.output()[-800:]}")
        else:
            self.durations[runner.kind].append(time.time() - run.started)
            if wrote:
                self.write_phase[runner.kind].append(time.time() - write_began)
        after = observe(settings)
        if after.ids is None:
            t.unopenable += 1
            t.problem(f"unopenable after an uninterrupted {runner.kind} run: {after.error}")
            return after
        lost, stale = len(new_ids - after.ids), len(after.ids - new_ids)
        t.lost_items += lost
        t.stale_items += stale
        if lost or stale:
            t.problem(f"after an uninterrupted {runner.kind} run following a kill at {where}: {lost} lost, {stale} stale")
        if old_segments - segment_names(index):
            t.runs_with_merges += 1
        if seen.ids == new_ids and seen.total != after.total:
            t.total_mismatch += 1
            t.problem(f"search total {seen.total} after the kill, {after.total} for the same state after the run")
        gens = [p for p in index.glob("gen-*") if p.is_dir()]
        if len(gens) > 2:
            t.leftover_generations += 1
            t.problem(f"{len(gens)} generation folders after a successful run: {sorted(p.name for p in gens)}")
        return after

    def _judge(self, seen: State, old: State, new_ids: frozenset[str], what: str, point: str | None) -> None:
        t = self.tally
        if seen.ids is None:
            t.unopenable += 1
            t.bad_states += 1
            t.problem(f"unopenable {what}: {seen.error}")
            return
        if seen.ids == old.ids:
            t.old_states += 1
            if seen.total != old.total:
                t.total_mismatch += 1
                t.problem(f"search total {seen.total} {what}; the old state gave {old.total}")
            if point in ("manifest_replaced", "finished") and old.ids != new_ids:
                t.stage_mismatch += 1
                t.problem(f"old state {what}: the manifest had been replaced")
        elif seen.ids == new_ids:
            t.new_states += 1
            if point and point not in ("manifest_replaced", "finished"):
                t.stage_mismatch += 1
                t.problem(f"new state {what}, before the commit point")
        else:
            t.bad_states += 1
            lost = len((old.ids or frozenset()) & new_ids - seen.ids)
            t.problem(f"bad state {what}: {len(seen.ids)} ids; old {len(old.ids or ())}, new {len(new_ids)}; "
                      f"{lost} ids in both states missing")

    # full disk and read-only folder, mid-run, on a small tmpfs
    def disk_trial(self, make_runner, fault: str, wanted: int, source: Path, corpus: Corpus, grow: tuple[int, int]) -> dict:
        """A copy of `source` (in step with `corpus`) on a small tmpfs; `wanted` runs with the fault mid-run."""
        t = self.tally
        counts: Counter = Counter(runs=0)
        mount = self.work / f"disk-{fault}"
        mount.mkdir(parents=True, exist_ok=True)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK}", "tmpfs", str(mount)], capture_output=True).returncode:
            return {"skipped": "needs root to mount a tmpfs"}
        try:
            index = mount / "ix"
            shutil.copytree(source, index)
            settings = self.settings.with_index(index)
            runner = make_runner(settings, corpus.folder, index)
            state = observe(settings)
            for _ in range(wanted):
                corpus.mutate(grow=self.rng.randint(*grow))  # a larger run: a longer write phase to hit
                new_ids = frozenset(corpus.expected_ids())
                gen_before = current_generation(index)
                if fault == "disk_full" and self.rng.random() < 0.5:
                    # the disk filled before the run, with a random amount of room left: the run runs
                    # out of space at a random point of its writes (or needs less and finishes)
                    self._fill(mount, headroom=self.rng.randint(0, 3 << 20))
                    run = runner.start(None)
                    hit = True
                else:
                    run = runner.start(None)
                    if wait_new_generation(index, run, gen_before, 3600):
                        phases = self.write_phase[runner.kind]
                        time.sleep(self.rng.uniform(0, (sum(phases[-20:]) / len(phases[-20:])) if phases else 0.1))
                    if run.poll() is not None:
                        hit = False
                    else:
                        hit = self._fill(mount) if fault == "disk_full" else self._read_only(index, run)
                code = run.wait()
                out = run.output()
                counts["runs"] += 1
                if code == 0:
                    counts["finished_anyway" if hit else "finished_before_fault"] += 1
                elif code == 1 and "Traceback" not in out and ("磁盘空间不足" in out or "只读" in out):
                    counts["failed_cleanly"] += 1
                else:
                    counts["failed_uncleanly"] += 1
                    t.problem(f"{runner.kind} run with {fault} exited {code}: {out[-800:]}")
                seen = observe(settings)
                self._judge(seen, state, new_ids, f"after {fault} mid-run ({runner.kind})", None)
                counts["old_state" if seen.ids == state.ids else "new_state" if seen.ids == new_ids else "bad_state"] += 1
                if fault == "disk_full":
                    (mount / "filler").unlink(missing_ok=True)
                else:
                    self._writable_again(index)
                again = runner.start(None)
                if again.wait() != 0:
                    t.failed_runs += 1
                    counts["failed_after_clearing"] += 1
                    t.problem(f"run after {fault} was cleared failed: {again.output()[-800:]}")
                state = observe(settings)
                if state.ids != new_ids:
                    lost = len(new_ids - (state.ids or frozenset()))
                    t.lost_items += lost
                    t.problem(f"after {fault} cleared: {lost} lost; {state.error}")
                print(f"[chaos] {fault} ({runner.kind}) run {counts['runs']}: exit {code}, {dict(counts)}", flush=True)
        finally:
            self._writable_again(mount / "ix")
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)
        return dict(counts)

    @staticmethod
    def _fill(mount: Path, headroom: int = 0) -> bool:
        """Fill the disk, leaving `headroom` bytes free."""
        free = os.statvfs(mount).f_bavail * os.statvfs(mount).f_frsize
        try:
            with (mount / "filler").open("wb") as fh:
                left = max(0, free - headroom)
                while left > 0:
                    left -= fh.write(b"\0" * min(65536, left))
                if not headroom:
                    while True:
                        fh.write(b"\0" * 4096)
        except OSError:
            pass
        return True

    @staticmethod
    def _read_only(index: Path, run: Run) -> bool:
        """Make the index folder read-only under the running indexer: a read-only bind mount of the
        folder over itself (a remount of the whole disk is refused while any file is open for
        writing, and the indexer holds its lock file open for the whole run). Every path the
        indexer opens from then on is read-only, as when a share is remounted read-only."""
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        target = str(index).encode()
        ms_rdonly, ms_remount, ms_bind = 1, 32, 4096
        while run.poll() is None:
            if libc.mount(target, target, None, ms_bind, None) != 0:
                return False
            if libc.mount(None, target, None, ms_remount | ms_bind | ms_rdonly, None) == 0:
                return True
            libc.umount2(target, 2)  # MNT_DETACH; a writer slipped in between: try again
        return False

    @staticmethod
    def _writable_again(index: Path) -> None:
        """Detach every read-only layer (lazily: this process may still map files through one)."""
        def mounted() -> bool:
            return any(line.split()[1] == str(index) for line in Path("/proc/mounts").read_text().splitlines())
        while mounted():
            subprocess.run(["umount", "-l", str(index)], check=True, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=1000, help="SIGKILLed runs wanted in all (cli + fork)")
    parser.add_argument("--cli-kills", type=int, default=200, help="of which with the real `bulletin index` and model")
    parser.add_argument("--disk-runs", type=int, default=20, help="full-disk and read-only runs each, forked")
    parser.add_argument("--cli-disk-runs", type=int, default=3, help="full-disk and read-only runs each with the CLI")
    parser.add_argument("--cli-minutes", type=float, default=40, help="the CLI trials stop after this long")
    parser.add_argument("--minutes", type=float, default=85, help="no kill trial starts after this long (the figures say how many ran)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=None, help="results JSON (default reliability/results/<date>.json)")
    args = parser.parse_args(argv)

    from indexer.faults import POINTS
    from indexer.ingest import ingest
    from search.config import load_settings

    work = WORK / "chaos"
    if work.exists():
        shutil.rmtree(work)
    (work / "logs").mkdir(parents=True)
    base = load_settings(ROOT / "config.toml")
    config = config_copy(base, work, {"merge_factor = 8": "merge_factor = 2", "segment_items = 100000": "segment_items = 32"})
    settings = load_settings(config)
    assert settings.index.merge_factor == 2 and settings.index.segment_items == 32
    sample = ingest([ROOT / "data" / "sample"], base.max_file_bytes, base.parser.brief_title_max_chars).items
    chaos = Chaos(work, settings, sample, args.seed)
    code = code_state()
    started = time.time()
    loads: list[float] = []

    def phase(runner, index: Path, corpus: Corpus, kills_wanted: int, cli: bool, deadline: float) -> None:
        cfg = settings.with_index(index)
        # the first build is forked (hash vectors: the CLI accepts the index, and embeds only what it adds)
        first = ForkRunner(cfg, corpus.folder, work / "logs").start(None)
        if first.wait() != 0:
            raise RuntimeError(f"first {runner.kind} run failed: {first.output()[-2000:]}")
        state = observe(cfg)
        goal = chaos.tally.by_runner[runner.kind] + kills_wanted
        n = 0
        while chaos.tally.by_runner[runner.kind] < goal and time.time() < deadline:
            stage_turn = n % 2 == 0 if STAGE_KILL_SHARE == 0.5 else chaos.rng.random() < STAGE_KILL_SHARE
            point = POINTS[(n // 2) % len(POINTS)] if stage_turn else None
            state = chaos.trial(runner, index, corpus, cfg, state, point)
            n += 1
            loads.append(os.getloadavg()[0])
            if n % 10 == 0 or cli:
                t = chaos.tally
                print(f"[chaos {time.time() - started:5.0f}s] {runner.kind} trials {n}, kills {t.kills} "
                      f"(stage {t.kills_at_stage}, random {t.kills_random}), bad {t.bad_states}, lost {t.lost_items}, "
                      f"failed {t.failed_runs}, merges {t.runs_with_merges}", flush=True)
            if state.ids is None:
                raise RuntimeError("index unopenable after an uninterrupted run: stopping")

    # 1. the real CLI, with the real model
    cli_index, cli_src = work / "cli-ix", work / "cli-src"
    cli_corpus = Corpus(cli_src, settings, sample, args.seed)
    cli_runner = CliRunner(config, cli_index, cli_src, work / "logs")
    phase(cli_runner, cli_index, cli_corpus, args.cli_kills, cli=True, deadline=started + args.cli_minutes * 60)
    cli_minutes = (time.time() - started) / 60
    # 2. forked build() runs with the hash embedder, for the rest of the kills
    fork_index, fork_src = work / "fork-ix", work / "fork-src"
    fork_corpus = Corpus(fork_src, settings, sample, args.seed + 1)
    phase(ForkRunner(settings.with_index(fork_index), fork_src, work / "logs"), fork_index, fork_corpus,
          max(0, args.kills - chaos.tally.kills), cli=False, deadline=started + args.minutes * 60)
    # 3. a full disk and a read-only folder mid-run: forked runs, and a few with the CLI
    disk = {}
    for fault in ("disk_full", "read_only"):
        disk[fault] = chaos.disk_trial(lambda s, src, ix: ForkRunner(s, src, work / "logs"), fault, args.disk_runs,
                                       fork_index, fork_corpus, (10, 40))
        disk[fault]["cli"] = chaos.disk_trial(lambda s, src, ix: CliRunner(config, ix, src, work / "logs"), fault,
                                              args.cli_disk_runs, cli_index, cli_corpus, (3, 10))
        disk[fault]["runs"] = disk[fault].get("runs", 0) + disk[fault]["cli"].get("runs", 0)

    t = chaos.tally
    mean = lambda xs: round(sum(xs) / len(xs), 2) if xs else None  # noqa: E731
    data = {
        "kills": t.kills, "kills_at_stage": t.kills_at_stage, "kills_random": t.kills_random,
        "kills_by_runner": dict(t.by_runner), "random_kills_while_writing": t.random_in_write_phase,
        "bad_states": t.bad_states, "lost_items": t.lost_items, "stale_items": t.stale_items, "unopenable": t.unopenable,
        "stage_mismatch": t.stage_mismatch, "total_mismatch": t.total_mismatch, "failed_runs": t.failed_runs,
        "leftover_generations": t.leftover_generations, "old_states": t.old_states, "new_states": t.new_states,
        "runs_with_merges": t.runs_with_merges, "by_stage": dict(t.by_stage), "stage_not_reached": dict(t.not_reached),
        "random_run_finished_before_kill": t.finished_before_kill,
        "disk_full": disk["disk_full"], "read_only": disk["read_only"],
        "uninterrupted_run_seconds": {k: mean(v) for k, v in chaos.durations.items()},
        "cli_minutes": round(cli_minutes, 1), "seconds": round(time.time() - started, 1),
        "kills_wanted": args.kills, "cli_kills_wanted": args.cli_kills,
        "config": {"merge_factor": 2, "segment_items": 32},
        "load_average": {"min": round(min(loads or [0]), 2), "mean": round(sum(loads) / max(len(loads), 1), 2),
                         "max": round(max(loads or [0]), 2)},
        "problems": t.problems, "code": code,
    }
    path = record("chaos", data, args.out)
    print(json.dumps({k: v for k, v in data.items() if k != "problems"}, ensure_ascii=False))
    print(f"chaos: {t.kills} kills, {t.bad_states} bad states, {t.lost_items} lost items -> {path}")
    ok = not (t.bad_states or t.lost_items or t.unopenable or t.failed_runs or t.stale_items or t.stage_mismatch)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
