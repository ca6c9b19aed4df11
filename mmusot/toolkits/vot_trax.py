# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""A TraX tracker server: any mmusot tracker behind the VOT toolkit.

The VOT toolkit (``vot evaluate``) starts a tracker as a separate process
and talks the TraX protocol to it (``vot-trax``, PyPI 4.x): a handshake
listing the region and image formats the tracker accepts, then
``initialize`` (an image and a region) and ``frame`` (an image) requests,
each answered by the tracker's state (a region and properties), until
``quit``. :class:`TraxTrackerServer` runs that loop around any object
with mmusot's tracking interface (:class:`mmusot.apis.Tracker` for every
mmtrack SOT model, :class:`mmusot.apis.OpenCVTracker`):
``init(frame_bgr_uint8, box_xywh)`` and ``track(frame) -> (box_xywh,
score)``.

* Regions in: rectangles, and polygons (rotated VOT boxes), which become
  the axis-aligned box the tracker starts from (:func:`polygon_to_xywh`).
  Region out: the tracker's rectangle, with its score as the
  ``confidence`` property (read by the toolkit's long-term analyses).
* Images: the colour channel, as a file path (what the toolkit sends) or
  an encoded JPEG/PNG buffer, read as OpenCV does; raw ``memory`` images
  (RGB arrays) are converted to BGR, but are not announced by default,
  since libtrax 4.0.2 corrupts its heap decoding some of them (e.g. 30 x
  20 RGB) before the tracker sees the request.
* Bad input (an unreadable image, a box outside the frame, an
  unsupported region, a frame of another size, a non-finite output, a
  malformed message) gets an error reply: the server ends the session
  with the reason, which the client reports (``TraxException: Server
  terminated the session: <reason>``), and
  :meth:`TraxTrackerServer.run` returns :data:`EXIT_ERROR`. A ``quit``
  request ends it cleanly (:data:`EXIT_OK`).
* The client's messages are checked before libtrax parses them
  (:class:`ClientMessageFilter`): libtrax 4.0.2 (vot-trax 4.0.2) loops
  forever when its input ends in the middle of an ``initialize`` request
  (e.g. a bare ``@@TRAX:initialize`` line, then end of input), allocating
  memory on each turn until the kernel kills the process (~23 GB), and
  spins on a client's ``hello`` or ``state`` message in the same way. The
  filter passes libtrax only complete, well-formed client messages
  (``initialize`` with one region, or none for the reset that starts a
  re-initialisation; ``frame`` with one image; ``quit``), each at most
  :data:`MAX_MESSAGE_BYTES` long, and ends libtrax's input with a message
  it refuses at once, so it never meets the end of its input.

The protocol uses the process's standard input and output (or the
``TRAX_SOCKET`` the client sets). Anything else written to standard
output (mmengine's logs, warnings, a ``print``) would be read by the
client as protocol text, so :func:`isolate_protocol_streams` moves the
protocol to private copies of those descriptors (libtrax's ``TRAX_IN`` /
``TRAX_OUT``) and sends standard output to standard error.

Coordinates are passed through unchanged: the model config decides their
convention (a USOT config with ``test_cfg.one_based_gt=True`` takes and
gives 1-based boxes).
"""

import logging
import math
import os
import re
import socket
import sys
import threading
import time
from contextlib import contextmanager
from typing import Dict, Iterator, Optional, Sequence, Tuple

import cv2
import numpy as np

#: Region formats announced in the handshake.
REGION_FORMATS = ('rectangle', 'polygon')
#: Image formats announced by default (see the module docstring for
#: ``memory``).
DEFAULT_IMAGE_FORMATS = ('path', 'buffer')
IMAGE_FORMATS = ('path', 'buffer', 'memory')
#: The image channel the trackers use.
COLOR_CHANNEL = 'color'
#: Polygon to box conversions (:func:`polygon_to_xywh`).
POLYGON_BOX_MODES = ('minmax', 'area')
#: Exit statuses of :meth:`TraxTrackerServer.run`.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CONNECTION_LOST = 3
#: Tracker family announced in the handshake.
TRACKER_FAMILY = 'mmusot'
#: The property carrying the tracker's score in each reply.
CONFIDENCE_KEY = 'confidence'
#: libtrax's environment variables for the protocol's descriptors.
TRAX_IN, TRAX_OUT, TRAX_SOCKET = 'TRAX_IN', 'TRAX_OUT', 'TRAX_SOCKET'
#: The prefix of every TraX message line.
TRAX_PREFIX = b'@@TRAX:'
#: Positional arguments each client message may carry (TraX 4, one image
#: channel): ``initialize`` one region, or none (the reset a client sends
#: before re-initialising), ``frame`` one image, ``quit`` none.
CLIENT_MESSAGE_ARGUMENTS = {'initialize': (0, 1), 'frame': (1,), 'quit': (0,)}
#: Longest client message passed to libtrax, in bytes (a 4K RGB
#: ``memory`` image is about 33 MB of base64).
MAX_MESSAGE_BYTES = 128 * 2**20
#: What libtrax reads in place of a refused message and after the end of
#: the client's input: a ``frame`` without its image, which it refuses at
#: once (a protocol error) instead of looping.
STOP_MESSAGE = b'@@TRAX:frame\n'
#: Bytes read from the client at a time.
READ_CHUNK = 2**20
#: Seconds to wait for the client's ``TRAX_SOCKET`` port to accept.
SOCKET_CONNECT_TIMEOUT = 30.0


def _log(message: str, level: int = logging.WARNING) -> None:
    from mmengine.logging import print_log

    print_log(message, logger='current', level=level)


class TraxInputError(ValueError):
    """A request the tracker cannot serve (answered with an error reply)."""


class TraxProtocolError(TraxInputError):
    """A client message that does not follow the TraX protocol."""


# ------------------------------------------------------------ messages
_MESSAGE_TYPE = re.compile(rb'@@TRAX:([A-Za-z0-9]*)(?= |$)')
_SEPARATOR = re.compile(rb'[ \r]*')
# libtrax's tokens: a quoted string ("...", backslash escapes) followed by
# a space or the end of the line, or an unquoted run up to a space.
_QUOTED = re.compile(rb'"([^"\\]*(?:\\.[^"\\]*)*)"(?= |$)', re.DOTALL)
_UNQUOTED = re.compile(rb'[^ \r"][^ \\]*(?:\\.[^ \\]*)*(?= |$)', re.DOTALL)
_KEY_PREFIX = re.compile(rb'(?:[^\\=]|\\.)*(?==)', re.DOTALL)
_ESCAPE = re.compile(rb'\\(.)', re.DOTALL)
_VALID_KEY = re.compile(rb'[A-Za-z0-9._]{0,64}')


def _is_property(token: bytes) -> bool:
    """Whether libtrax reads a token as ``key=value`` (not an argument).

    As libtrax: the text before the first unescaped ``=`` must be a valid
    key (letters, digits, ``.`` and ``_``, at most 64), else the ``=`` is
    part of an argument (a base64 image, a path).
    """
    eq = token.find(b'=')
    if eq < 0:
        return False
    key = token[:eq]
    if b'\\' in key:
        match = _KEY_PREFIX.match(token)
        if match is None:
            return False
        key = _ESCAPE.sub(
            lambda m: b'\n' if m.group(1) == b'n' else m.group(1),
            match.group(0),
        )
    return _VALID_KEY.fullmatch(key) is not None


def parse_client_message(line: bytes) -> Optional[Tuple[str, int]]:
    """The type and argument count of one line a TraX client sent.

    Reads the line as libtrax 4.0.2 does (quoted and unquoted tokens,
    backslash escapes, ``key=value`` properties), but refuses what libtrax
    would skip without a word or read past the end of the line: a
    malformed type, an unterminated quote, a quote not followed by a
    space, a trailing backslash.

    Args:
        line (bytes): one line, without its newline.

    Returns:
        tuple[str, int] | None: the message type (lower case) and the
        number of positional arguments (properties not counted), or None
        for a line that is no TraX message (libtrax skips those).

    Raises:
        TraxProtocolError: a malformed message, naming the problem.
    """
    if not line.startswith(TRAX_PREFIX):
        return None
    match = _MESSAGE_TYPE.match(line)
    if match is None or not match.group(1):
        raise TraxProtocolError(
            f'malformed TraX message {_excerpt(line)}: its type must be '
            'letters and digits, followed by a space or the end of the line'
        )
    kind = match.group(1).decode('ascii').lower()
    arguments = 0
    pos = match.end()
    while pos < len(line):
        pos = _SEPARATOR.match(line, pos).end()
        if pos == len(line):
            break
        quoted = line[pos : pos + 1] == b'"'
        token = (_QUOTED if quoted else _UNQUOTED).match(line, pos)
        if token is None:
            problem = (
                'an unterminated quote, or a quote not followed by a space'
                if quoted
                else 'a backslash at the end of the line'
            )
            raise TraxProtocolError(
                f'malformed TraX {kind!r} message {_excerpt(line)}: '
                f'{problem} (at byte {pos})'
            )
        if not _is_property(token.group(1) if quoted else token.group(0)):
            arguments += 1
        pos = token.end()
    return kind, arguments


def _excerpt(line: bytes, limit: int = 80) -> str:
    text = repr(line[:limit])[1:]
    return text if len(line) <= limit else f'{text[:-1]}...{text[-1]}'


class ClientMessageFilter:
    """Pass a TraX client's messages to libtrax once they are checked.

    A thread reads the client's input (``source``), splits it into lines,
    checks each message (:func:`parse_client_message`, the argument
    counts of ``CLIENT_MESSAGE_ARGUMENTS``, an ``initialize`` request
    giving a region before its ``frame``) and writes the good ones to a
    pipe that libtrax reads (:attr:`fd`). It stops at the first bad
    message, at a ``quit``, or at the end of the input, and then writes
    :data:`STOP_MESSAGE`, so that libtrax's ``wait`` fails at once instead
    of looping on the end of its input (see the module docstring). The
    server then reads :attr:`error` (why, or None) and :attr:`ended`
    (the client's input ended).

    Args:
        source (int): the descriptor the client's messages come from.
        max_message_bytes (int): longest message accepted. Defaults to
            :data:`MAX_MESSAGE_BYTES`.
    """

    def __init__(
        self, source: int, max_message_bytes: int = MAX_MESSAGE_BYTES
    ) -> None:
        self.source = source
        self.max_message_bytes = max_message_bytes
        self.error: Optional[str] = None
        self.ended = False
        self._read_fd, self._write_fd = os.pipe()
        self._closed = False
        # an initialize request: its messages seen, and its regions
        self._initializing = False
        self._regions = 0
        self._thread = threading.Thread(
            target=self._pump, name='trax-message-filter', daemon=True
        )
        self._thread.start()

    @property
    def fd(self) -> int:
        """int: the descriptor libtrax reads the checked messages from."""
        return self._read_fd

    def close(self) -> None:
        """Stop passing messages (the server is done with libtrax)."""
        self._closed = True
        try:
            os.close(self._read_fd)
        except OSError:
            pass

    def check(self, kind: str, arguments: int) -> None:
        """Check one message in the request sequence.

        Raises:
            TraxProtocolError: an unexpected type, argument count or order.
        """
        allowed = CLIENT_MESSAGE_ARGUMENTS.get(kind)
        if allowed is None:
            raise TraxProtocolError(
                f'a TraX client does not send {kind!r} messages (expected '
                f'{", ".join(CLIENT_MESSAGE_ARGUMENTS)})'
            )
        if arguments not in allowed:
            need = ' or '.join(str(n) for n in allowed)
            raise TraxProtocolError(
                f'malformed TraX {kind!r} message: {arguments} arguments, '
                f'expected {need}'
            )
        if kind == 'initialize':
            if not arguments:  # the reset before a re-initialisation
                self._regions = 0
            self._initializing = True
            self._regions += arguments
        elif kind == 'frame':
            if self._initializing and not self._regions:
                raise TraxProtocolError(
                    'malformed TraX initialize request: no region before '
                    'its frame'
                )
            self._initializing = False
            self._regions = 0

    def _pump(self) -> None:
        pending = bytearray()
        searched = 0
        try:
            while not self._closed:
                newline = pending.find(b'\n', searched)
                if newline < 0:
                    if len(pending) > self.max_message_bytes:
                        self.error = (
                            'a TraX message longer than '
                            f'{self.max_message_bytes} bytes'
                        )
                        return
                    searched = len(pending)
                    chunk = os.read(self.source, READ_CHUNK)
                    if not chunk:
                        self._end_of_input(pending)
                        return
                    pending += chunk
                    continue
                line = bytes(pending[:newline])
                del pending[: newline + 1]
                searched = 0
                try:
                    parsed = parse_client_message(line)
                    if parsed is None:
                        continue
                    self.check(*parsed)
                except TraxProtocolError as err:
                    self.error = str(err)
                    return
                self._forward(line + b'\n')
                if parsed[0] == 'quit':
                    return
        except OSError as err:  # the client's side failed, or we closed
            if not self._closed:
                self.ended = True
                _log(f'TraX: reading the client failed: {err}')
        finally:
            try:
                self._forward(STOP_MESSAGE)
            except OSError:
                pass
            os.close(self._write_fd)

    def _end_of_input(self, pending: bytearray) -> None:
        self.ended = True
        if pending.strip():
            self.error = (
                'the input ended in the middle of a TraX message '
                f'{_excerpt(bytes(pending))}'
            )
        elif self._initializing:
            self.error = (
                'the input ended in the middle of a TraX initialize '
                'request (before its frame message)'
            )

    def _forward(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._write_fd, view) :]


# ------------------------------------------------------------ regions
def polygon_to_xywh(
    points: Sequence[float], mode: str = 'minmax'
) -> np.ndarray:
    """An axis-aligned ``[x, y, w, h]`` box for a polygon.

    Args:
        points (Sequence[float]): ``[x1, y1, x2, y2, ...]`` or a sequence
            of ``(x, y)`` pairs, at least 3 points.
        mode (str): ``'minmax'``: the bounding rectangle of the points
            (the VOT toolkit's ``Rectangle.convert``; the boxes of
            sot_eval's VOT sequences). ``'area'``: the box centred on the
            points' centre whose area is the polygon's (the area of the
            rotated box), keeping the bounding rectangle's aspect ratio,
            the convention of SiamFC-family VOT test scripts (pysot's
            ``get_axis_aligned_bbox``). Defaults to 'minmax'.

    Returns:
        np.ndarray: of shape (4,), float64, ``[x, y, w, h]``.

    Raises:
        TraxInputError: too few points, non-finite values or an unknown
            mode.
    """
    if mode not in POLYGON_BOX_MODES:
        raise TraxInputError(
            f'unknown polygon conversion {mode!r}; use {POLYGON_BOX_MODES}'
        )
    xy = np.asarray(points, dtype=np.float64).reshape(-1)
    if xy.size < 6 or xy.size % 2:
        raise TraxInputError(
            f'a polygon needs at least 3 (x, y) points, got {xy.size} values'
        )
    if not np.isfinite(xy).all():
        raise TraxInputError(f'polygon has non-finite values: {xy.tolist()}')
    xy = xy.reshape(-1, 2)
    x1, y1 = xy.min(axis=0)
    x2, y2 = xy.max(axis=0)
    if mode == 'minmax':
        return np.array([x1, y1, x2 - x1, y2 - y1])
    cx, cy = xy.mean(axis=0)
    # Shoelace formula for the polygon's area.
    x, y = xy[:, 0], xy[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    bound_area = (x2 - x1) * (y2 - y1)
    scale = math.sqrt(area / bound_area) if bound_area > 0 else 0.0
    w, h = scale * (x2 - x1), scale * (y2 - y1)
    return np.array([cx - w / 2, cy - h / 2, w, h])


def region_to_xywh(region, polygon_mode: str = 'minmax') -> np.ndarray:
    """The ``[x, y, w, h]`` box of a TraX region.

    Args:
        region (trax.Region): a ``trax.Rectangle`` or ``trax.Polygon``.
        polygon_mode (str): see :func:`polygon_to_xywh`.

    Returns:
        np.ndarray: of shape (4,), float64.

    Raises:
        TraxInputError: a mask, a special region or another type.
    """
    import trax

    if isinstance(region, trax.Rectangle):
        return np.asarray(region.bounds(), dtype=np.float64)
    if isinstance(region, trax.Polygon):
        return polygon_to_xywh(
            [c for point in region for c in point], polygon_mode
        )
    raise TraxInputError(
        f'unsupported region {region}; this tracker accepts '
        f'{" and ".join(REGION_FORMATS)} regions'
    )


# ------------------------------------------------------------- images
def image_to_bgr(image) -> np.ndarray:
    """Decode a TraX image to an (H, W, 3) uint8 BGR frame.

    Args:
        image (trax.Image): a ``FileImage`` (read with ``cv2.imread``, grey
            files expanded to BGR), ``BufferImage`` (JPEG/PNG bytes) or
            ``MemoryImage`` (an RGB, or grey, array).

    Returns:
        np.ndarray: of shape (H, W, 3), uint8, BGR.

    Raises:
        TraxInputError: an unreadable file or buffer, a URL image, or an
            unsupported array.
    """
    import trax

    if isinstance(image, trax.FileImage):
        path = image.path()
        frame = cv2.imread(path, cv2.IMREAD_COLOR)
        if frame is None:
            raise TraxInputError(f'cannot read image file {path!r}')
        return frame
    if isinstance(image, trax.BufferImage):
        data = np.frombuffer(image.buffer(), dtype=np.uint8)
        frame = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if frame is None:
            raise TraxInputError(
                f'cannot decode the image buffer ({data.size} bytes)'
            )
        return frame
    if isinstance(image, trax.MemoryImage):
        array = image.array()
        if array.dtype != np.uint8:
            raise TraxInputError(
                f'memory images must be 8-bit, got {array.dtype}'
            )
        if array.ndim == 3 and array.shape[2] == 3:
            return cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
        return cv2.cvtColor(array.reshape(array.shape[:2]), cv2.COLOR_GRAY2BGR)
    raise TraxInputError(
        f'unsupported image {image}; this tracker reads '
        f'{"/".join(IMAGE_FORMATS)} images'
    )


# ------------------------------------------------------------ streams
def isolate_protocol_streams() -> Optional[Tuple[int, int]]:
    """Keep the process's standard output free for the protocol only.

    Duplicates standard input and output for libtrax (``TRAX_IN`` /
    ``TRAX_OUT``), then points descriptor 1 at standard error and
    descriptor 0 at ``/dev/null``: logs and prints reach the client's log
    as text lines instead of corrupting protocol messages. Call it first
    thing in the tracker process, before imports that log. Does nothing
    when the client uses a socket (``TRAX_SOCKET``) or the descriptors
    are already set.

    Returns:
        tuple[int, int] | None: the protocol's (input, output) descriptors,
        or None when nothing was changed.
    """
    if os.environ.get(TRAX_SOCKET) or (
        os.environ.get(TRAX_IN) and os.environ.get(TRAX_OUT)
    ):
        return None
    sys.stdout.flush()
    proto_in, proto_out = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.environ[TRAX_IN] = str(proto_in)
    os.environ[TRAX_OUT] = str(proto_out)
    return proto_in, proto_out


@contextmanager
def _protocol_env(streams: Optional[Tuple[int, int]]) -> Iterator[None]:
    """Point libtrax at ``streams`` while the server is set up."""
    if streams is None:
        yield
        return
    saved = {k: os.environ.get(k) for k in (TRAX_IN, TRAX_OUT, TRAX_SOCKET)}
    os.environ[TRAX_IN], os.environ[TRAX_OUT] = map(str, streams)
    os.environ.pop(TRAX_SOCKET, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# ------------------------------------------------------------- server
class TraxTrackerServer:
    """Serve one tracker over TraX until the client quits.

    Example (the body of ``mmusot-vot-trax``)::

        isolate_protocol_streams()
        tracker = Tracker.from_config(config, checkpoint)
        sys.exit(TraxTrackerServer(tracker, name='USOT').run())

    Args:
        tracker: an object with ``init(frame, box)`` and ``track(frame) ->
            (box, score)``: frames (H, W, 3) uint8 BGR, boxes ``[x, y, w,
            h]`` (e.g. :class:`mmusot.apis.Tracker`).
        name (str): tracker name sent in the handshake. Defaults to
            'mmusot'.
        description (str): free text sent in the handshake.
        polygon_mode (str): polygon to box conversion
            (:func:`polygon_to_xywh`). Defaults to 'minmax'.
        image_formats (Sequence[str]): image formats to announce, from
            ``IMAGE_FORMATS``. Defaults to ``('path', 'buffer')``.
        streams (tuple[int, int], optional): the protocol's (input,
            output) descriptors. Defaults to None: the process's standard
            streams, ``TRAX_IN``/``TRAX_OUT`` or ``TRAX_SOCKET`` as
            libtrax finds them.
        max_message_bytes (int): longest client message accepted
            (:class:`ClientMessageFilter`). Defaults to
            :data:`MAX_MESSAGE_BYTES`.

    Raises:
        ValueError: an unknown polygon mode or image format.
    """

    def __init__(
        self,
        tracker,
        name: str = 'mmusot',
        description: str = '',
        polygon_mode: str = 'minmax',
        image_formats: Sequence[str] = DEFAULT_IMAGE_FORMATS,
        streams: Optional[Tuple[int, int]] = None,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        if polygon_mode not in POLYGON_BOX_MODES:
            raise ValueError(
                f'polygon_mode must be one of {POLYGON_BOX_MODES}, got '
                f'{polygon_mode!r}'
            )
        unknown = [f for f in image_formats if f not in IMAGE_FORMATS]
        if unknown or not image_formats:
            raise ValueError(
                f'image formats must be among {IMAGE_FORMATS}, got '
                f'{list(image_formats)}'
            )
        self.tracker = tracker
        self.name = name
        self.description = description
        self.polygon_mode = polygon_mode
        self.image_formats = tuple(image_formats)
        self.streams = streams
        self.max_message_bytes = max_message_bytes
        self._shape: Optional[Tuple[int, int]] = None
        self.frames_served = 0

    def _client_streams(self) -> Tuple[int, int, Optional[socket.socket]]:
        """The client's (input, output) descriptors, as libtrax finds them.

        With ``TRAX_SOCKET`` (the client listens on that local port) this
        connects to it, as libtrax would, and returns the socket too (the
        caller closes it).
        """
        if self.streams is not None:
            return self.streams[0], self.streams[1], None
        port = os.environ.get(TRAX_SOCKET)
        if port:
            sock = _connect_socket(int(port))
            return sock.fileno(), sock.fileno(), sock
        return (
            int(os.environ.get(TRAX_IN, 0)),
            int(os.environ.get(TRAX_OUT, 1)),
            None,
        )

    def _connect(self, streams: Optional[Tuple[int, int]] = None):
        import trax

        with _protocol_env(streams or self.streams):
            return trax.Server(
                list(REGION_FORMATS),
                list(self.image_formats),
                image_channels=[COLOR_CHANNEL],
                tracker_name=self.name,
                tracker_description=self.description,
                tracker_family=TRACKER_FAMILY,
            )

    @staticmethod
    def _frame(request) -> np.ndarray:
        images = request.image or {}
        if COLOR_CHANNEL not in images:
            raise TraxInputError(
                f'the request has no {COLOR_CHANNEL!r} image (channels: '
                f'{sorted(images)})'
            )
        return image_to_bgr(images[COLOR_CHANNEL])

    def _init_box(self, objects) -> np.ndarray:
        if len(objects) != 1:
            raise TraxInputError(
                f'this tracker follows one object; got {len(objects)}'
            )
        region, _ = objects[0]
        return region_to_xywh(region, self.polygon_mode)

    def _reply(self, server, box: np.ndarray, score: Optional[float]):
        import trax

        box = np.asarray(box, dtype=np.float64).reshape(-1)
        if box.size != 4 or not np.isfinite(box).all():
            raise RuntimeError(
                f'the tracker returned a non-finite box {box.tolist()}'
            )
        properties: Dict[str, str] = {}
        if score is not None:
            properties[CONFIDENCE_KEY] = f'{float(score):.6g}'
        region = trax.Rectangle.create(*(float(v) for v in box))
        server.status([(region, properties)])

    def handle(self, server, request) -> None:
        """Serve one ``initialize`` or ``frame`` request.

        A ``frame`` request that carries one region re-initialises the
        tracker on it (TraX's re-initialisation).

        Raises:
            TraxInputError / ValueError / TypeError: bad input.
            RuntimeError: the tracker failed.
        """
        frame = self._frame(request)
        objects = request.objects or []
        if request.type == 'initialize' or objects:
            box = self._init_box(objects)
            self.tracker.init(frame, box)
            self._shape = frame.shape[:2]
            # The box the tracker starts from (the init region as a box).
            start = getattr(self.tracker, 'box', None)
            self._reply(server, box if start is None else start, None)
        else:
            if self._shape is None:
                raise TraxInputError('a frame request came before initialize')
            if frame.shape[:2] != self._shape:
                raise TraxInputError(
                    f'frame size {frame.shape[1]}x{frame.shape[0]} differs '
                    f'from the {self._shape[1]}x{self._shape[0]} frame the '
                    'target was initialised in'
                )
            box, score = self.tracker.track(frame)
            self._reply(server, box, score)
        self.frames_served += 1

    def run(self) -> int:
        """Handshake, then serve requests until ``quit``.

        The client's messages reach libtrax through a
        :class:`ClientMessageFilter`: a malformed message (or the end of
        the input in the middle of a request) is answered with an error
        reply instead of reaching libtrax's parser.

        Returns:
            int: :data:`EXIT_OK` after a ``quit`` request,
            :data:`EXIT_ERROR` after an error reply (the session ends with
            the reason), :data:`EXIT_CONNECTION_LOST` when the client went
            away without ``quit``.
        """
        source, sink, sock = self._client_streams()
        messages = ClientMessageFilter(source, self.max_message_bytes)
        try:
            return self._serve(self._connect((messages.fd, sink)), messages)
        finally:
            messages.close()
            if sock is not None:
                sock.close()

    def _serve(self, server, messages: ClientMessageFilter) -> int:
        import trax

        while True:
            try:
                request = server.wait()
            except trax.TraxException as err:
                if messages.error is None and messages.ended:
                    _log(f'TraX connection lost: {err}')
                    return EXIT_CONNECTION_LOST
                # a refused message: the client still listens for a reply
                reason = messages.error or (
                    f'libtrax refused the request ({err}): a region or '
                    'image argument it cannot parse?'
                )
                _log(f'{self.name}: {reason}', logging.ERROR)
                _quit(server, reason)
                return EXIT_ERROR
            if request.type == 'quit':
                _quit(server)
                return EXIT_OK
            try:
                self.handle(server, request)
            except trax.TraxException as err:
                _log(f'TraX connection lost: {err}')
                return EXIT_CONNECTION_LOST
            except Exception as err:  # any failure becomes an error reply
                reason = f'{type(err).__name__}: {err}'
                _log(
                    f'{self.name}: {request.type} request failed: {reason}',
                    logging.ERROR,
                )
                _quit(server, reason)
                return EXIT_ERROR

    def fail(self, reason: str) -> int:
        """Handshake, then end the session at once with ``reason``.

        For a tracker process that could not start (e.g. a missing
        checkpoint): the client gets the reason instead of a timeout.

        Returns:
            int: :data:`EXIT_ERROR`.
        """
        _quit(self._connect(), reason)
        return EXIT_ERROR


def _connect_socket(port: int) -> socket.socket:
    """Connect to the client's local port (libtrax's ``TRAX_SOCKET``)."""
    deadline = time.monotonic() + SOCKET_CONNECT_TIMEOUT
    while True:
        try:
            sock = socket.create_connection(('127.0.0.1', port))
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)  # the client may not listen yet
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def _quit(server, reason: Optional[str] = None) -> None:
    import trax

    try:
        server.quit(reason=reason)
    except trax.TraxException as err:  # the client may be gone already
        _log(f'TraX quit failed: {err}')


def serve(tracker, **kwargs) -> int:
    """Run a :class:`TraxTrackerServer` (keyword arguments are its own).

    Returns:
        int: the exit status of :meth:`TraxTrackerServer.run`.
    """
    return TraxTrackerServer(tracker, **kwargs).run()


# ---------------------------------------------------------- registry
def trackers_ini_entry(
    identifier: str,
    command: Sequence[str],
    label: Optional[str] = None,
    timeout: int = 300,
    env: Optional[Dict[str, str]] = None,
) -> str:
    """A ``trackers.ini`` section for the VOT toolkit's registry.

    The toolkit runs ``command`` (split with ``shlex``) in a temporary
    working folder, so every path in it must be absolute.

    Args:
        identifier (str): the tracker identifier (letters, digits, ``-``
            and ``_``), as given to ``vot evaluate``.
        command (Sequence[str]): the program and its arguments.
        label (str, optional): display name. Defaults to ``identifier``.
        timeout (int): seconds the toolkit waits for a reply, the start-up
            (model loading) included. Defaults to 300.
        env (dict, optional): environment variables for the tracker.

    Returns:
        str: the section, ending with a newline.

    Raises:
        ValueError: an invalid identifier.
    """
    import re
    import shlex

    if not re.fullmatch(r'[A-Za-z0-9_-]+', identifier):
        raise ValueError(
            f'VOT tracker identifiers use letters, digits, - and _ only: '
            f'{identifier!r}'
        )
    lines = [
        f'[{identifier}]',
        f'label = {label or identifier}',
        'protocol = trax',
        f'command = {shlex.join(list(command))}',
        f'timeout = {int(timeout)}',
    ]
    for key, value in (env or {}).items():
        lines.append(f'env_{key} = {value}')
    return '\n'.join(lines) + '\n'
