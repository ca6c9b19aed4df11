# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Many videos -> one pseudo-labelled dataset: shards, workers, resume,
merge and summary.

:func:`convert_videos` is the whole job for a folder of videos (what
``mmusot-videos-to-pseudo`` and ``mmusot-demo`` run); the converters'
command lines (:mod:`mmusot.cli.pseudo_label_args`) add shards, progress
bars and exit codes around :func:`convert_sources` and :func:`merge`.
Every error raised on purpose is a
:class:`~mmusot.pseudo_labels.errors.PseudoLabelError`.
"""

import glob
import json
import multiprocessing as mp
import os
import re
import socket
import time
import traceback
from contextlib import contextmanager
from typing import (
    Callable,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
)

import cv2

from .errors import (
    AnnotationError,
    InputError,
    OutputLockedError,
    SettingsMismatchError,
)
from .pipeline import PseudoLabelSettings, preset_settings, process_video
from .shots import SHOT_CUT_DISTANCE
from .video_io import VideoSource, discover_sources
from .writer import (
    annotation_error,
    atomic_write_json,
    read_annotation,
    write_infos,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

# <out>/.converter-<i>of<n>.lock: held by the converter of shard i/n.
LOCK_PATTERN = re.compile(r'\.converter-(\d+)of(\d+)\.lock')


def _lock_holder(path: str) -> str:
    """'pid N on host H since T' from a lock file (best effort)."""
    try:
        with open(path) as f:
            info = json.load(f)
        return (
            f'pid {info["pid"]} on host {info["host"]} (since '
            f'{info["started"]})'
        )
    except (OSError, ValueError, KeyError, TypeError):
        return 'a process that has not written its pid yet'


def _try_lock(path: str) -> Optional[int]:
    """An open, exclusively flock-ed descriptor of ``path``, or None when
    another process holds it. A lock left by a dead process is free: the
    system releases a flock when its holder exits."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        # The previous holder may have removed the file between our open
        # and flock: then we locked a file nobody else will see; retry.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def _unlock(path: str, fd: int) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.close(fd)


@contextmanager
def output_lock(
    out_root: str, shard: Tuple[int, int] = (0, 1)
) -> Iterator[str]:
    """Hold ``out_root``'s converter lock for one shard while converting.

    Two converters writing the same videos into one folder would delete
    each other's temporary frames; shards of one run (the same ``n``,
    different ``i``) write disjoint videos and run side by side. The lock
    is ``<out_root>/.converter-<i>of<n>.lock``, holding the pid, host and
    start time, flock-ed while the run lasts and removed at its end. A
    lock whose process died (killed) is no longer held by the system and
    is taken over.

    Args:
        out_root (str): the output folder (created if missing).
        shard (tuple[int, int]): this run's (i, n). Defaults to (0, 1).

    Yields:
        str: the lock file.

    Raises:
        OutputLockedError: a live converter holds the lock of this shard,
            or of a shard that overlaps it (another ``n``); the message
            names its pid.
    """
    if fcntl is None:  # pragma: no cover - not POSIX: no lock
        yield ''
        return
    index, count = shard
    os.makedirs(out_root, exist_ok=True)
    path = os.path.join(out_root, f'.converter-{index}of{count}.lock')
    fd = _try_lock(path)
    if fd is None:
        raise OutputLockedError(_busy_message(out_root, path, shard))
    try:
        started = time.strftime('%Y-%m-%d %H:%M:%S')
        info = dict(
            pid=os.getpid(),
            host=socket.gethostname(),
            started=started,
            shard=f'{index}/{count}',
        )
        os.ftruncate(fd, 0)
        os.write(fd, (json.dumps(info) + '\n').encode())
        for name in sorted(os.listdir(out_root)):
            m = LOCK_PATTERN.fullmatch(name)
            other = os.path.join(out_root, name)
            if not m or other == path:
                continue
            i, n = int(m.group(1)), int(m.group(2))
            if n == count and i != index:
                continue  # a sibling shard: other videos
            other_fd = _try_lock(other)
            if other_fd is None:
                raise OutputLockedError(_busy_message(out_root, other, (i, n)))
            _unlock(other, other_fd)  # a dead run's lock
    except BaseException:
        _unlock(path, fd)
        raise
    try:
        yield path
    finally:
        _unlock(path, fd)


def _busy_message(out_root: str, path: str, shard: Tuple[int, int]) -> str:
    return (
        f'{out_root}: another converter is writing this folder: '
        f'{_lock_holder(path)}, shard {shard[0]}/{shard[1]} (lock {path}). '
        "Two runs on the same videos delete each other's temporary "
        'files: wait for it to finish or stop it, use another output '
        'folder, or split the work with --shard i/n'
    )


def parse_shard(text: str) -> Tuple[int, int]:
    """'i/n' (0 <= i < n) -> (i, n)."""
    try:
        i, n = (int(v) for v in text.split('/'))
    except ValueError:
        raise ValueError(f'--shard must look like i/n, got {text!r}')
    if not 0 <= i < n:
        raise ValueError(f'--shard {text}: need 0 <= i < n')
    return i, n


def select_shard(
    sources: Sequence[VideoSource], index: int, count: int
) -> List[VideoSource]:
    """Every ``count``-th source from ``index`` (sources sorted by name)."""
    return list(sources[index::count])


def status_path(out_root: str, name: str) -> str:
    return os.path.join(out_root, 'status', name + '.json')


def read_status(out_root: str, name: str) -> Optional[dict]:
    """The finished record of a video, or None if it is not done."""
    p = status_path(out_root, name)
    if not os.path.isfile(p):
        return None
    with open(p) as f:
        return json.load(f)


def check_settings(
    out_root: str, settings: PseudoLabelSettings, extra: Optional[dict] = None
) -> None:
    """Record the run's settings, or refuse if the folder holds others.

    Raises:
        SettingsMismatchError: ``settings.json`` differs from this run's.
    """
    want = dict(settings=settings.to_dict(), **(extra or {}))
    p = os.path.join(out_root, 'settings.json')
    if os.path.isfile(p):
        with open(p) as f:
            have = json.load(f)
        if have != json.loads(json.dumps(want)):
            raise SettingsMismatchError(
                f'{p}: the output folder was made with other settings; '
                f'use the same arguments to resume, or a new folder'
            )
        return
    atomic_write_json(p, want)


def _run_one(args) -> dict:
    source, out_root, settings, threads, fix = args
    if threads is not None:
        cv2.setNumThreads(threads)
    t0 = time.perf_counter()
    try:
        record = process_video(source, out_root, settings, fix=fix)
    except Exception as e:  # one bad video never stops a run
        record = dict(
            video=source.name,
            source=os.path.abspath(source.path),
            status='failed',
            reason=f'{type(e).__name__}: {e}',
            traceback=traceback.format_exc(limit=3),
            warnings=[],
            num_frames=0,
            tracks=[],
            elapsed_s=round(time.perf_counter() - t0, 3),
        )
    atomic_write_json(status_path(out_root, source.name), record)
    return record


def convert_sources(
    sources: Sequence[VideoSource],
    out_root: str,
    settings: PseudoLabelSettings,
    workers: int = 1,
    retry_failed: bool = False,
    on_record: Optional[Callable[[dict, bool], None]] = None,
    extra_settings: Optional[dict] = None,
    shard: Tuple[int, int] = (0, 1),
    fix: bool = False,
) -> List[dict]:
    """Pseudo-label ``sources`` into ``out_root``, resuming finished ones.

    A video is done when its status record exists (it is written last and
    atomically); anything else of an unfinished video is redone. The run
    holds the folder's :func:`output_lock` for its shard.

    Args:
        sources (Sequence[VideoSource]): the videos of this shard.
        out_root (str): dataset root.
        settings (PseudoLabelSettings): all settings.
        workers (int): processes. Defaults to 1 (in-process).
        retry_failed (bool): redo videos recorded as failed.
            Defaults to False.
        on_record (Callable, optional): called with (record, skipped) after
            each video, e.g. to advance a progress bar.
        extra_settings (dict, optional): more values that must match on
            resume (e.g. the preset name).
        shard (tuple[int, int]): the (i, n) shard ``sources`` come from,
            for the lock. Defaults to (0, 1).
        fix (bool): a track with an unusable box is filtered (``kept``
            False, the reason recorded) instead of failing its video (see
            :func:`~.pipeline.process_video`). Defaults to False.

    Returns:
        list[dict]: the records of all ``sources`` (old and new).

    Raises:
        OutputLockedError: another converter writes the same videos.
        SettingsMismatchError: the folder was made with other settings.
    """
    os.makedirs(out_root, exist_ok=True)
    with output_lock(out_root, shard):
        check_settings(out_root, settings, extra_settings)
        records, todo = {}, []
        for src in sources:
            rec = read_status(out_root, src.name)
            if rec is not None and not (
                retry_failed and rec['status'] == 'failed'
            ):
                records[src.name] = rec
                if on_record:
                    on_record(rec, True)
            else:
                todo.append(src)
        threads = 1 if workers > 1 else None
        jobs = [(s, out_root, settings, threads, fix) for s in todo]
        for rec in _run_jobs(jobs, workers):
            records[rec['video']] = rec
            if on_record:
                on_record(rec, False)
        return [records[s.name] for s in sources]


def _run_jobs(jobs: list, workers: int) -> Iterator[dict]:
    """The records of ``jobs``, in a pool of ``workers`` processes (spawn)
    when there are several of both, else in this process, in order."""
    if workers > 1 and len(jobs) > 1:
        with mp.get_context('spawn').Pool(workers) as pool:
            yield from pool.imap_unordered(_run_one, jobs)
    else:
        yield from map(_run_one, jobs)


def default_video_settings(**overrides) -> PseudoLabelSettings:
    """The settings for users' videos: the ``default`` preset, split at shot
    cuts (users' videos are often edited), with ``overrides`` applied.

    These are ``mmusot-videos-to-pseudo``'s settings without options.
    """
    return preset_settings(
        'default', **{'shot_cut': SHOT_CUT_DISTANCE, **overrides}
    )


def video_sources(input_path: str, out_root: str) -> List[VideoSource]:
    """The videos and frame folders under ``input_path`` to convert into
    ``out_root`` (which is not searched: its frames are no new videos).

    Args:
        input_path (str): a folder (searched recursively) or a video file.
        out_root (str): the output folder.

    Returns:
        list[VideoSource]: sorted by name, not empty.

    Raises:
        InputError: ``input_path`` is missing or holds no video, or
            ``out_root`` is ``input_path``.
    """
    if not os.path.exists(input_path):
        raise InputError(
            f'input {input_path} does not exist (give a folder of videos '
            'and/or frame folders, or one video file)'
        )
    if os.path.realpath(input_path) == os.path.realpath(out_root):
        raise InputError(
            f'the output folder {out_root} is the input folder; write the '
            'pseudo labels to another folder (a sub-folder of the input is '
            'fine: it is not searched)'
        )
    sources = discover_sources(input_path, exclude=[out_root])
    if not sources:
        raise InputError(f'no video files or frame folders under {input_path}')
    return sources


def convert_videos(
    input_path: str,
    out_root: str,
    settings: Optional[PseudoLabelSettings] = None,
    workers: int = 1,
    infos_name: str = 'pseudo',
    on_record: Optional[Callable[[dict, bool], None]] = None,
    fix: bool = False,
) -> dict:
    """Pseudo-label every video under ``input_path`` and merge (resumable).

    The whole job of ``mmusot-videos-to-pseudo`` in one shard:
    :func:`video_sources`, :func:`convert_sources`, :func:`merge`.

    Args:
        input_path (str): a folder (searched recursively) or a video file.
        out_root (str): the dataset root to write.
        settings (PseudoLabelSettings, optional): Defaults to
            :func:`default_video_settings`.
        workers (int): processes. Defaults to 1.
        infos_name (str): the infos file is ``<infos_name>_infos.txt``.
            Defaults to 'pseudo'.
        on_record (Callable, optional): called with (record, skipped) after
            each video.
        fix (bool): filter tracks with unusable boxes instead of failing
            (see :func:`convert_sources`, :func:`merge`). Defaults to False.

    Returns:
        dict: the merged summary (see :func:`merge`).

    Raises:
        PseudoLabelError: the input, the output folder or a written
            annotation file cannot be used (the message says which).
    """
    sources = video_sources(input_path, out_root)
    convert_sources(
        sources,
        out_root,
        settings or default_video_settings(),
        workers,
        on_record=on_record,
        extra_settings=dict(input=input_path),
        fix=fix,
    )
    return merge(out_root, infos_name, [s.name for s in sources], fix=fix)


def load_records(out_root: str) -> List[dict]:
    """All status records under ``out_root/status`` sorted by video."""
    files = glob.glob(
        os.path.join(out_root, 'status', '**', '*.json'), recursive=True
    )
    recs = []
    for f in files:
        with open(f) as fh:
            recs.append(json.load(fh))
    return sorted(recs, key=lambda r: r['video'])


def summarize(
    records: Iterable[dict], expected: Optional[Sequence[str]] = None
) -> dict:
    """Counts, reasons, utilisation and speed of a set of video records.

    Args:
        records (Iterable[dict]): status records.
        expected (Sequence[str], optional): all video names of the run, to
            report unfinished ones.

    Returns:
        dict: ``videos``, ``kept``, ``filtered``, ``failed`` (lists of
        ``[video, reason]``), ``utilisation`` (kept / processed videos),
        ``tracks_total`` / ``tracks_kept``, ``frames``, ``seconds`` (sum
        over videos), ``fps_per_worker``, ``warnings``, ``pending``.
    """
    records = list(records)
    kept = [r['video'] for r in records if r['status'] == 'kept']
    filtered = [
        [r['video'], r['reason']] for r in records if r['status'] == 'filtered'
    ]
    failed = [
        [r['video'], r['reason']] for r in records if r['status'] == 'failed'
    ]
    frames = sum(r.get('num_frames', 0) for r in records)
    secs = sum(r.get('elapsed_s', 0.0) for r in records)
    tracks = [t for r in records for t in r.get('tracks', [])]
    done = {r['video'] for r in records}
    return dict(
        videos=len(records),
        kept=kept,
        filtered=filtered,
        failed=failed,
        utilisation=len(kept) / len(records) if records else 0.0,
        tracks_total=len(tracks),
        tracks_kept=sum(1 for t in tracks if t.get('kept')),
        frames=frames,
        seconds=round(secs, 3),
        fps_per_worker=frames / secs if secs > 0 else 0.0,
        warnings=[
            [r['video'], w] for r in records for w in r.get('warnings', [])
        ],
        pending=sorted(set(expected) - done) if expected else [],
    )


def track_label_problem(out_root: str, record: dict, track: dict) -> str:
    """Why a kept track's annotation file cannot be trained on ('' if it
    can): missing, a line count that disagrees with its frames, or a bad
    line (:func:`~.writer.read_annotation`, against the record's frame
    size), with the file and line."""
    path = os.path.join(out_root, track['ann_path'])
    if not os.path.isfile(path):
        return f'{path}: annotation file not found'
    boxes, problems = read_annotation(path, record.get('frame_size'))
    n = track['end_frame_id'] - track['start_frame_id'] + 1
    if len(boxes) != n:
        return f'{path}: {len(boxes)} box line(s) for {n} frames'
    if problems:
        return str(annotation_error(path, problems))
    return ''


def merge(
    out_root: str,
    infos_name: str = 'pseudo',
    expected: Optional[Sequence[str]] = None,
    fix: bool = False,
) -> dict:
    """Write ``<infos_name>_infos.txt`` and ``summary.json`` from records.

    One infos line per kept track, sorted by video then track:
    ``frames/<video>,<ann_path>,<start_frame_id>,<end_frame_id>``. Every
    listed track's annotation file is checked first
    (:func:`track_label_problem`), so an infos file never lists a box
    that training would refuse.

    Args:
        out_root (str): dataset root.
        infos_name (str): the infos file is ``<infos_name>_infos.txt``.
            Defaults to 'pseudo'.
        expected (Sequence[str], optional): all video names of the run.
        fix (bool): leave tracks with a bad annotation file out of the
            infos file (listed in the summary's ``invalid_tracks``) instead
            of raising. Defaults to False.

    Returns:
        dict: the summary (see :func:`summarize`; plus ``invalid_tracks``,
        ``[video, problem]`` pairs, when ``fix`` left some out).

    Raises:
        AnnotationError: a listed track's annotation file is bad (the
            message names the file and line), unless ``fix``.
    """
    records = load_records(out_root)
    lines, invalid = [], []
    for r in records:
        for t in r.get('tracks', []):
            if t.get('kept') and r.get('frames_path'):
                problem = track_label_problem(out_root, r, t)
                if problem and not fix:
                    raise AnnotationError(
                        f'{problem}; fix the file, re-run the converter for '
                        f'{r["video"]} (delete its status record), or merge '
                        'with --fix to leave such tracks out of the infos '
                        'file'
                    )
                if problem:
                    invalid.append([r['video'], problem])
                    continue
                lines.append(
                    (
                        r['frames_path'],
                        t['ann_path'],
                        t['start_frame_id'],
                        t['end_frame_id'],
                    )
                )
    write_infos(os.path.join(out_root, f'{infos_name}_infos.txt'), lines)
    summary = summarize(records, expected)
    if invalid:
        summary['invalid_tracks'] = invalid
    atomic_write_json(os.path.join(out_root, 'summary.json'), summary)
    return summary


def format_summary(summary: dict, wall_s: Optional[float] = None) -> str:
    """Human-readable summary for the CLIs."""
    lines = [
        f'videos: {summary["videos"]}  kept: {len(summary["kept"])}  '
        f'filtered: {len(summary["filtered"])}  '
        f'failed: {len(summary["failed"])}  '
        f'pending: {len(summary["pending"])}',
        f'video utilisation: {100 * summary["utilisation"]:.1f}% '
        f'(paper: 50.8% on GOT-10k, 56.3% on VID); tracks kept '
        f'{summary["tracks_kept"]}/{summary["tracks_total"]}',
        f'frames: {summary["frames"]}  per-worker speed: '
        f'{summary["fps_per_worker"]:.1f} frames/s',
    ]
    if wall_s:
        lines.append(
            f'wall clock: {wall_s:.1f} s, '
            f'{summary["frames"] / wall_s:.1f} frames/s overall'
        )
    for v, why in summary['filtered']:
        lines.append(f'  filtered {v}: {why}')
    for v, why in summary['failed']:
        lines.append(f'  FAILED   {v}: {why}')
    for v, w in summary['warnings']:
        lines.append(f'  warning  {v}: {w}')
    for v, why in summary.get('invalid_tracks', []):
        lines.append(f'  dropped  {v} (--fix): {why}')
    if summary.get('invalid_tracks'):
        lines.append(
            f'{len(summary["invalid_tracks"])} track(s) with bad boxes left '
            'out of the infos file (--fix)'
        )
    for v in summary['pending'][:20]:
        lines.append(f'  pending  {v}')
    return '\n'.join(lines)
