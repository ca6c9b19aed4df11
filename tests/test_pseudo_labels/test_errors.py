# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""One error type for the pseudo-label domain, each with its exit code."""

import pytest

from mmusot.pseudo_labels import (
    AnnotationError,
    InputError,
    OutputLockedError,
    PseudoLabelError,
    SettingsMismatchError,
    VideoReadError,
    convert_videos,
    video_sources,
)


def test_every_error_is_a_pseudo_label_error_with_its_exit_code():
    codes = {
        InputError: 1,
        AnnotationError: 1,
        VideoReadError: 1,
        SettingsMismatchError: 2,
        OutputLockedError: 3,
    }
    for cls, code in codes.items():
        assert issubclass(cls, PseudoLabelError) and cls.exit_code == code
    # the older bases still catch them
    assert issubclass(AnnotationError, ValueError)
    assert issubclass(VideoReadError, RuntimeError)


def test_bad_inputs_raise_input_error(tmp_path):
    with pytest.raises(InputError, match='does not exist'):
        video_sources(str(tmp_path / 'none'), str(tmp_path / 'out'))
    with pytest.raises(InputError, match='is the input folder'):
        video_sources(str(tmp_path), str(tmp_path))
    with pytest.raises(InputError, match='no video files'):
        convert_videos(str(tmp_path), str(tmp_path / 'out'))
