"""The settings a `compactbert bench` run takes when none are given (shared by `run_benchmark` and the command line;
importing them loads no torch)."""

DEFAULT_BATCHES = (1, 32)
DEFAULT_SEQ = 128
DEFAULT_REPEATS = 5
DEFAULT_WARMUP = 1
DEFAULT_MIN_SAMPLE_MS = 100.0  # a timed sample repeats a forward until it lasts about this long
CALIBRATION_SEQUENCES = 16  # random-token sequences an int8 row is calibrated on: the bench times speed, not quality
INT8_CALIBRATION = (
    f"calibrated on {CALIBRATION_SEQUENCES} random-token sequences (the bench times speed; "
    "`compactbert export --dtype int8` calibrates on real texts and verifies the predictions)"
)
