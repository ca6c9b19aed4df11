# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The TraX server (mmusot.toolkits.vot_trax, ``mmusot-vot-trax``).

* polygon -> box conversions on numbers worked out by hand;
* a TraX session in this process (server thread, ``vot-trax``'s own
  client): the boxes equal those of :class:`mmusot.apis.Tracker` on the
  same frames, for file, encoded-buffer and raw RGB images, rectangle and
  polygon regions and a re-initialisation; bad input gets an error reply with
  the reason, ``quit`` ends the server cleanly;
* the real command under the VOT toolkit's own client (its tracker
  registry reading the printed ``trackers.ini`` section, its TraX
  runtime), on a sequence laid out by ``mmusot-otb-to-vot``.

The TraX tests skip when the optional extra (``vot-trax``, and
``vot-toolkit`` for the last) is not installed.
"""

import configparser
import os
import sys
import threading

import cv2
import numpy as np
import pytest

from mmusot.toolkits.vot_trax import (
    EXIT_ERROR,
    EXIT_OK,
    IMAGE_FORMATS,
    TraxInputError,
    TraxTrackerServer,
    polygon_to_xywh,
    trackers_ini_entry,
)
from tests.test_apis.tiny_models import (
    moving_square,
    save_init_checkpoint,
    write_otb_sequence,
    write_tiny_usot_config,
)

#: TraX writes regions with 4 decimals.
TRAX_ATOL = 1e-4
#: A diamond around (10, 10): its bounding box is 20 x 20, its area 200.
DIAMOND = [10, 0, 20, 10, 10, 20, 0, 10]


pytestmark = pytest.mark.usefixtures('torch_one_thread')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A MobileNetV2 USOT config and a PyTorch-default-init checkpoint."""
    folder = tmp_path_factory.mktemp('tiny')
    config = write_tiny_usot_config(folder / 'tiny_usot.py')
    checkpoint = save_init_checkpoint(config, folder / 'tiny.pth')
    return config, checkpoint


@pytest.fixture(scope='module')
def tiny_tracker(tiny):
    from mmusot.apis import Tracker

    return Tracker.from_config(*tiny)


# ------------------------------------------------------------ regions
def test_polygon_to_box_by_hand():
    np.testing.assert_allclose(polygon_to_xywh(DIAMOND), [0, 0, 20, 20])
    # area mode: same centre and aspect ratio, area 200 -> side sqrt(200)
    side = np.sqrt(200.0)
    np.testing.assert_allclose(
        polygon_to_xywh(DIAMOND, 'area'),
        [10 - side / 2, 10 - side / 2, side, side],
    )
    # an axis-aligned rectangle as a polygon: both modes give it back
    rect = [(2, 3), (12, 3), (12, 8), (2, 8)]
    np.testing.assert_allclose(polygon_to_xywh(rect), [2, 3, 10, 5])
    np.testing.assert_allclose(polygon_to_xywh(rect, 'area'), [2, 3, 10, 5])
    with pytest.raises(TraxInputError, match='at least 3'):
        polygon_to_xywh([1, 2, 3, 4])
    with pytest.raises(TraxInputError, match='non-finite'):
        polygon_to_xywh([0, 0, 1, np.nan, 1, 1])
    with pytest.raises(TraxInputError, match='unknown polygon'):
        polygon_to_xywh(DIAMOND, 'hull')


def test_trackers_ini_section_reads_back(tmp_path):
    from mmusot.cli import vot_trax as cli

    config = tmp_path / 'cfg.py'
    args = cli.parse_args(
        [
            os.path.relpath(config),
            '--checkpoint',
            'w dir/model.pth',
            '--threads',
            '2',
            '--cfg-options',
            'model.test_cfg.one_based_gt=True',
            '--print-trackers-ini',
            'USOT_tiny',
        ]
    )
    text = trackers_ini_entry('USOT_tiny', cli.serve_command(args), env={})
    parser = configparser.ConfigParser()
    parser.read_string(text)
    section = parser['USOT_tiny']
    assert section['protocol'] == 'trax' and int(section['timeout']) == 300
    import shlex

    command = shlex.split(section['command'])
    # absolute paths: the toolkit runs trackers in a temporary folder
    assert command[:3] == [sys.executable, '-m', 'mmusot.cli.vot_trax']
    assert command[3] == str(config)
    assert command[command.index('--checkpoint') + 1] == os.path.abspath(
        'w dir/model.pth'
    )
    assert 'model.test_cfg.one_based_gt=True' in command
    with pytest.raises(ValueError, match='identifiers'):
        trackers_ini_entry('bad name', ['x'])


# ------------------------------------------------------ a TraX session
class ThreadedServer:
    """A TraxTrackerServer in a thread, on two pipes, and a client."""

    def __init__(self, tracker, **kwargs):
        import trax.client

        server_in, client_out = os.pipe()
        client_in, server_out = os.pipe()
        self.fds = [server_in, client_out, client_in, server_out]
        self.server = TraxTrackerServer(
            tracker, streams=(server_in, server_out), **kwargs
        )
        self.status = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.log = []
        # vot-trax 4.0.2's client needs a logger (None fails in ctypes).
        self.client = trax.client.Client(
            stream=(client_out, client_in), log=self.log.append
        )

    def _run(self):
        self.status = self.server.run()

    def join(self):
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), 'the server did not stop'
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        return self.status


def _boxes(objects):
    ((region, properties),) = objects
    return np.array(region.bounds()), properties


def test_trax_session_equals_the_tracking_api(tmp_path, tiny_tracker):
    trax = pytest.importorskip('trax')
    from mmusot.apis import Tracker

    frames, truth = moving_square(4)
    paths = []
    for i, frame in enumerate(frames):
        paths.append(str(tmp_path / f'{i:04d}.png'))
        cv2.imwrite(paths[-1], frame)

    assert TraxTrackerServer(None).image_formats == ('path', 'buffer')
    # (memory images of this size are safe from the libtrax bug)
    session = ThreadedServer(
        tiny_tracker, name='tiny-usot', image_formats=IMAGE_FORMATS
    )
    client = session.client
    assert client.tracker_name == 'tiny-usot'
    assert client.region_formats == ['rectangle', 'polygon']
    assert set(client.image_formats) == {'path', 'buffer', 'memory'}

    # rectangle init on a file image; file and buffer frames
    x, y, w, h = truth[0]
    state, _ = client.initialize(
        {'color': trax.FileImage.create(paths[0])},
        [(trax.Rectangle.create(x, y, w, h), {})],
        {},
    )
    np.testing.assert_allclose(_boxes(state)[0], truth[0], atol=TRAX_ATOL)
    served = []
    for i, path in enumerate(paths[1:3], start=1):
        image = (
            trax.FileImage.create(path)
            if i == 1
            else trax.BufferImage.create(open(path, 'rb').read())
        )
        state, _ = client.frame({'color': image}, {}, [])
        box, properties = _boxes(state)
        served.append((box, float(properties['confidence'])))

    # re-initialise with a polygon (the rotated-box form of truth[2])
    x, y, w, h = truth[2]
    polygon = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    state, _ = client.initialize(
        {'color': trax.FileImage.create(paths[2])},
        [(trax.Polygon.create(polygon), {})],
        {},
    )
    np.testing.assert_allclose(_boxes(state)[0], truth[2], atol=TRAX_ATOL)
    # a raw memory image is RGB
    rgb = trax.MemoryImage.create(np.ascontiguousarray(frames[3][..., ::-1]))
    state, _ = client.frame({'color': rgb}, {}, [])
    served.append((_boxes(state)[0], float(_boxes(state)[1]['confidence'])))

    client.quit()
    assert session.join() == EXIT_OK
    assert session.server.frames_served == 5

    # the same frames through the API
    reference = Tracker(tiny_tracker.model)
    reference.init(frames[0], truth[0])
    expected = [reference.track(f) for f in frames[1:3]]
    reference.init(frames[2], truth[2])
    expected.append(reference.track(frames[3]))
    for (box, score), (ref_box, ref_score) in zip(served, expected):
        np.testing.assert_allclose(box, ref_box, atol=TRAX_ATOL)
        assert score == pytest.approx(ref_score, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize(
    'bad', ['missing file', 'box outside', 'flat polygon', 'other size']
)
def test_bad_input_gets_an_error_reply(tmp_path, tiny_tracker, bad):
    trax = pytest.importorskip('trax')
    frames, truth = moving_square(2)
    path = str(tmp_path / 'f.png')
    cv2.imwrite(path, frames[0])
    image = trax.FileImage.create(path)
    region = trax.Rectangle.create(*truth[0])
    if bad == 'missing file':
        image = trax.FileImage.create(str(tmp_path / 'nope.jpg'))
        reason = 'cannot read image file'
    elif bad == 'box outside':
        region = trax.Rectangle.create(500, 500, 10, 10)
        reason = 'outside the 160x120 frame'
    elif bad == 'flat polygon':
        # (the client converts regions the server does not announce, e.g.
        # masks, so this is what reaches it: a polygon without area)
        region = trax.Polygon.create([(10, 10), (30, 10), (20, 10)])
        reason = 'box has no area'
    else:
        reason = 'frame size 80x60 differs'
    session = ThreadedServer(tiny_tracker)
    client = session.client
    with pytest.raises(trax.TraxException, match=reason):
        client.initialize({'color': image}, [(region, {})], {})
        small = str(tmp_path / 'small.png')
        cv2.imwrite(small, frames[1][:60, :80])
        client.frame({'color': trax.FileImage.create(small)}, {}, [])
    assert session.join() == EXIT_ERROR


# ------------------------------------- the command under the toolkit
def test_command_under_the_vot_toolkit(tmp_path, tiny):
    pytest.importorskip('trax')
    pytest.importorskip('vot.tracker.trax')
    from vot.dataset import load_dataset
    from vot.region import Rectangle
    from vot.tracker import Registry, TrackerException

    from mmusot.cli import vot_trax as cli
    from mmusot.toolkits import otb_to_vot

    config, checkpoint = tiny
    frames, truth = moving_square(3)
    write_otb_sequence(tmp_path / 'otb', 'square', frames, truth)
    otb_to_vot(str(tmp_path / 'otb'), str(tmp_path / 'sequences'))
    sequence = load_dataset(str(tmp_path / 'sequences'))['square']

    args = cli.parse_args(
        [config, '--checkpoint', checkpoint, '--threads', '1']
    )
    ini = tmp_path / 'trackers.ini'
    ini.write_text(
        trackers_ini_entry('tiny', cli.serve_command(args), timeout=120)
    )
    tracker = Registry([str(tmp_path)])['tiny']

    # a clean session: initialise, track, quit -> exit status 0
    runtime = tracker.runtime()
    state, _ = runtime.initialize(
        sequence.frame(0), [sequence.frame(0).groundtruth()]
    )
    region = state[0].region
    assert isinstance(region, Rectangle)
    np.testing.assert_allclose(
        [region.x, region.y, region.width, region.height],
        truth[0],
        atol=TRAX_ATOL,
    )
    for i in (1, 2):
        state, _ = runtime.update(sequence.frame(i), [])
        region = state[0].region
        assert isinstance(region, Rectangle) and region.width > 0
        assert np.isfinite(float(state[0].properties['confidence']))
    process = runtime._process._process
    runtime.stop()
    assert process.wait(timeout=30) == EXIT_OK

    # an error reply: the toolkit reports the tracker's reason
    runtime = tracker.runtime()
    outside = Rectangle(1000, 1000, 5, 5)
    with pytest.raises(TrackerException, match='is outside the 160x120'):
        runtime.initialize(sequence.frame(0), [outside])
    runtime.stop()

    # a tracker that cannot start says why instead of timing out
    args = cli.parse_args([config, '--checkpoint', str(tmp_path / 'no.pth')])
    ini.write_text(trackers_ini_entry('broken', cli.serve_command(args)))
    runtime = Registry([str(tmp_path)])['broken'].runtime()
    with pytest.raises(TrackerException, match='cannot start the tracker'):
        runtime.initialize(
            sequence.frame(0), [sequence.frame(0).groundtruth()]
        )
    runtime.stop()
