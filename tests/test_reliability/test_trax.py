# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Issue 19, the TraX server: malformed client messages get an error
reply, and never reach libtrax's parser.

vot-trax 4.0.2's libtrax loops forever when its input ends in the middle
of an ``initialize`` request (a bare ``@@TRAX:initialize``, or one with a
region but no ``frame`` after it), allocating memory until the kernel
kills the process (~23 GB), and spins on a client's ``hello``. So every
server here runs in a subprocess under a 2 GB address-space limit and a
timeout: on unprotected code the test fails (killed, or timed out)
without putting the machine at risk.

The server is :class:`mmusot.toolkits.vot_trax.TraxTrackerServer` around
a stand-in tracker (no model: the protocol is what is tested).
"""

import os
import resource
import socket
import subprocess
import sys

import pytest

from tests.script_loader import REPO

pytest.importorskip('trax')

#: Address-space limit of the server process: far above what it needs,
#: far below what libtrax's runaway loop takes.
MEMORY_LIMIT = 2 * 10**9
TIMEOUT = 60
EXIT_ERROR = 1

# The module is loaded from its file: the server then starts in about a
# second, without the OpenMMLab stack that ``import mmusot`` pulls in.
SERVER = """
import importlib.util
import sys
import numpy as np

spec = importlib.util.spec_from_file_location('vot_trax', {module!r})
vot_trax = importlib.util.module_from_spec(spec)
spec.loader.exec_module(vot_trax)
vot_trax.isolate_protocol_streams()


class Still:
    box = None

    def init(self, frame, box):
        self.box = np.asarray(box, dtype=float)

    def track(self, frame):
        return self.box, 0.5


sys.exit(vot_trax.TraxTrackerServer(Still(), {kwargs}).run())
"""


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def start_server(tmp_path, kwargs='', env=None, **popen):
    script = tmp_path / 'server.py'
    module = REPO / 'mmusot' / 'toolkits' / 'vot_trax.py'
    script.write_text(SERVER.format(module=str(module), kwargs=kwargs))
    environ = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO))
    environ.update(env or {})
    return subprocess.Popen(
        [sys.executable, str(script)],
        env=environ,
        preexec_fn=_limit_memory,
        stderr=subprocess.PIPE,
        **popen,
    )


def serve_raw(tmp_path, data: bytes, kwargs=''):
    """Send ``data`` after the handshake, close the input; the exit
    status and what the server wrote after its hello."""
    server = start_server(
        tmp_path, kwargs, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        hello = server.stdout.readline()
        assert hello.startswith(b'@@TRAX:hello'), hello
        server.stdin.write(data)
        server.stdin.close()
        server.stdin = None
        out, err = server.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate()
        pytest.fail(f'the server did not answer {data!r} within {TIMEOUT} s')
    return server.returncode, out, err.decode(errors='replace')


def quit_reason(out: bytes) -> str:
    lines = [x for x in out.splitlines() if x.startswith(b'@@TRAX:quit')]
    assert lines, f'no quit message in {out!r}'
    return lines[-1].decode()


@pytest.fixture(scope='module')
def image(tmp_path_factory):
    import cv2
    import numpy as np

    path = tmp_path_factory.mktemp('img') / 'f.png'
    cv2.imwrite(str(path), np.zeros((40, 50, 3), np.uint8))
    return f'file://{path}'


@pytest.mark.parametrize(
    'data,reason',
    [
        # the runaway cases of libtrax: the input ends mid-initialize
        (b'@@TRAX:initialize\n', 'in the middle of a TraX initialize'),
        (b'@@TRAX:initialize "1,1,10,10"\n', 'in the middle of a TraX init'),
        (b'@@TRAX:initialize "1,1,10,10"', 'in the middle of a TraX mess'),
        # libtrax spins on these at the end of the input
        (b'@@TRAX:hello\n', "does not send 'hello' messages"),
        (b'@@TRAX:state "1,1,2,2"\n', "does not send 'state' messages"),
        # refused by libtrax without a reason for the client
        (
            b'@@TRAX:initialize "a" "1,1,10,10"\n',
            "'initialize' message: 2 arguments, expected 0 or 1",
        ),
    ],
)
def test_malformed_messages_get_an_error_reply(tmp_path, data, reason):
    status, out, err = serve_raw(tmp_path, data)
    assert status == EXIT_ERROR, (status, err[-2000:])
    assert reason in quit_reason(out), out


def test_initialize_without_region_before_its_frame(tmp_path, image):
    data = f'@@TRAX:initialize \n@@TRAX:frame "{image}"\n'.encode()
    status, out, _ = serve_raw(tmp_path, data)
    assert status == EXIT_ERROR
    assert 'no region before its frame' in quit_reason(out)


def test_malformed_quoting_and_overlong_messages(tmp_path, image):
    # an unterminated quote: libtrax would read on into the next lines
    status, out, _ = serve_raw(
        tmp_path, b'@@TRAX:initialize "1,1,10,10\n@@TRAX:quit\n'
    )
    assert status == EXIT_ERROR
    assert 'unterminated quote' in quit_reason(out)
    # a message longer than the limit is not buffered without end
    status, out, _ = serve_raw(
        tmp_path,
        b'@@TRAX:frame "' + b'A' * 5000,
        kwargs='max_message_bytes=1000',
    )
    assert status == EXIT_ERROR
    assert 'longer than 1000 bytes' in quit_reason(out)


def test_socket_client_gets_an_error_reply(tmp_path):
    """``TRAX_SOCKET``: the client listens, the tracker connects."""
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    listener.settimeout(TIMEOUT)
    port = listener.getsockname()[1]
    server = start_server(
        tmp_path, env={'TRAX_SOCKET': str(port)}, stdout=subprocess.PIPE
    )
    try:
        connection, _ = listener.accept()
        connection.settimeout(TIMEOUT)
        stream = connection.makefile('rb')
        assert stream.readline().startswith(b'@@TRAX:hello')
        connection.sendall(b'@@TRAX:initialize\n')
        connection.shutdown(socket.SHUT_WR)
        reply = stream.read()
        server.wait(timeout=TIMEOUT)
    except (socket.timeout, subprocess.TimeoutExpired):
        server.kill()
        pytest.fail('the server did not answer')
    finally:
        listener.close()
        server.communicate()
    assert server.returncode == EXIT_ERROR
    assert 'in the middle of a TraX initialize' in quit_reason(reply)


def test_parse_client_message_counts_arguments_as_libtrax():
    from mmusot.toolkits.vot_trax import (
        TraxProtocolError,
        parse_client_message,
    )

    cases = {
        b'@@TRAX:initialize "1.0,2.0,3.0,4.0" ': ('initialize', 1),
        b'@@TRAX:initialize ': ('initialize', 0),
        b'@@TRAX:initialize': ('initialize', 0),
        b'@@TRAX:Frame "file:///a=b.png" "trax.x=1" ': ('frame', 1),
        b'@@TRAX:frame "data:image/png;iVBO+/==" key=v ': ('frame', 1),
        b'@@TRAX:frame "a\\"b=c" \r ': ('frame', 1),
        b'@@TRAX:quit "trax.reason=it \\"ends\\" here" ': ('quit', 0),
        b'@@TRAX:initialize 1,2,3,4 name=x': ('initialize', 1),
        b'some log line': None,
    }
    for line, expected in cases.items():
        assert parse_client_message(line) == expected, line
    for line, problem in (
        (b'@@TRAX:frame "abc', 'unterminated quote'),
        (b'@@TRAX:frame "a"b', 'not followed by a space'),
        (b'@@TRAX:frame abc\\', 'backslash at the end'),
        (b'@@TRAX:', 'letters and digits'),
        (b'@@TRAX:fra-me "x"', 'letters and digits'),
    ):
        with pytest.raises(TraxProtocolError, match=problem):
            parse_client_message(line)
