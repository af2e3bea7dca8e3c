"""The per-face noise seed, exactly as quality/src/faceqan_scorer.cpp derives it: the one Python
copy, used by the reference re-implementation (faceqan_reference.py) and bench/gpu_bench.py."""

MASK = (1 << 64) - 1


def _mix(value):
    """splitmix64's finaliser, as in quality/src/faceqan_scorer.cpp."""
    value = (value + 0x9E3779B97F4A7C15) & MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK
    return value ^ (value >> 31)


def face_seed(run_seed, key):
    return _mix(_mix(run_seed & MASK) ^ (key & MASK))
