"""The counter-based generator: SplitMix64 bits, distributions, batch independence."""

import numpy as np
import pytest

from optbench.problems import rng

MASK = 2**64 - 1


def splitmix64_reference(state, n):
    """SplitMix64 in plain Python integers (Steele et al. 2014), an independent implementation."""
    out = []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        out.append(z ^ (z >> 31))
    return out


def test_bits_are_splitmix64_streams():
    assert int(rng.bits(np.array([0], np.uint64), 1)[0, 0]) == 0xE220A8397B1DCDAF
    keys = np.array([0, 12345, 2**63 + 7], dtype=np.uint64)
    got = rng.bits(keys, 5)
    for k, row in zip(keys, got, strict=True):
        assert [int(v) for v in row] == splitmix64_reference(int(k), 5)


def test_keys_do_not_depend_on_the_batch():
    batch = rng.run_keys([3, 1, 2], rng.STREAM_NOISE)
    for i, s in enumerate([3, 1, 2]):
        assert rng.run_keys([s], rng.STREAM_NOISE)[0] == batch[i]
    assert len(set(rng.run_keys(list(range(1000)), 1).tolist())) == 1000
    assert rng.run_keys([5], rng.STREAM_INIT)[0] != rng.run_keys([5], rng.STREAM_NOISE)[0]
    assert rng.step_keys(batch, 0)[0] != rng.step_keys(batch, 1)[0]


def test_uniform_and_normal_distributions():
    keys = rng.run_keys(list(range(200)), rng.STREAM_NOISE)
    u = rng.uniform(keys, 1000)
    assert u.min() > 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.002 and abs(u.var() - 1 / 12) < 0.001
    z = rng.normal(keys, 1000)
    assert abs(z.mean()) < 0.005 and abs(z.std() - 1.0) < 0.005
    assert abs(np.mean(z**3)) < 0.02 and abs(np.mean(z**4) - 3.0) < 0.05
    # Normal quantiles: P(z < 1) = 0.8413, P(|z| > 2) = 0.0455
    assert abs(np.mean(z < 1.0) - 0.8413) < 0.003 and abs(np.mean(abs(z) > 2) - 0.0455) < 0.002


def test_permutations():
    keys = rng.run_keys([0, 1, 2, 3], rng.STREAM_SHUFFLE)
    P = rng.permutations(keys, 50)
    assert P.shape == (4, 50)
    for row in P:
        np.testing.assert_array_equal(np.sort(row), np.arange(50))
    assert len({tuple(r) for r in P}) == 4
    np.testing.assert_array_equal(rng.permutations(keys[2:3], 50)[0], P[2])


@pytest.mark.parametrize(
    ("seeds", "match"), [([], "non-empty"), ([-3], ">= 0"), (["a"], "integers")]
)
def test_bad_seeds(seeds, match):
    with pytest.raises(ValueError, match=match):
        rng.as_seeds(seeds)
