"""numpy's multivariate hypergeometric draw ('marginals'), compiled: the same numbers from the
same bit generator, for a fraction of the call's cost.

Why: the gray market shares seized chips among labs by drawing without replacement
(`Generator.multivariate_hypergeometric`) about 1.5 times a month on 2-22 colours. numpy's C
draw takes a fraction of a microsecond; the ~9 us a call costs is the Python around it
(np.asarray, np.issubdtype, np.any over the colours, the lock). A numba kernel given a Generator
pays as much again to unbox it, so this kernel takes the bit generator's own C functions
(next_double and next_uint32, from `bit_generator.ctypes`) as plain addresses and
calls them itself: every number numpy would take from the stream, in the same order, the
buffered half of a uint32 included, so the draw and the generator's state afterwards are
numpy's exactly.

The port follows numpy 2.4's C (numpy/random/src/distributions/random_mvhg_marginals.c,
random_hypergeometric.c, logfactorial.c, distributions.c `random_interval`: the same from 2.0
to 2.4.6 and on main, bar whitespace and a cast) line by line, keeping its floating-point
expressions in the same order: numpy builds that code without FMA contraction and calls
glibc's `log` and `sqrt`, as numba's math.log and math.sqrt do, and floor is exact.

Inputs the kernel does not take (other dtypes or shapes, a bit generator without the ctypes
interface, anything numpy would refuse) go to numpy itself, so its errors stay its own;
`fallbacks` counts them (the tests hold it at zero on the kernel's inputs). Like numba's own
Generator support, the kernel does not take the bit generator's lock: the model draws from
one thread. tests/core/test_hypergeometric.py holds it to numpy, draw and state.
"""

from __future__ import annotations

import ctypes
import math

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

MARGINALS_LIMIT = 10**9  # numpy's 'marginals' method refuses sum(colors) from here on

# log(k!) for k = 0..125: numpy's table (logfactorial.c), digit for digit.
LOGFACT = np.array([
    0, 0, 0.69314718055994529, 1.791759469228055, 3.1780538303479458, 4.7874917427820458,
    6.5792512120101012, 8.5251613610654147, 10.604602902745251, 12.801827480081469,
    15.104412573075516, 17.502307845873887, 19.987214495661885, 22.552163853123425,
    25.19122118273868, 27.89927138384089, 30.671860106080672, 33.505073450136891,
    36.395445208033053, 39.339884187199495, 42.335616460753485, 45.380138898476908,
    48.471181351835227, 51.606675567764377, 54.784729398112319, 58.003605222980518,
    61.261701761002001, 64.557538627006338, 67.88974313718154, 71.257038967168015,
    74.658236348830158, 78.092223553315307, 81.557959456115043, 85.054467017581516,
    88.580827542197682, 92.136175603687093, 95.719694542143202, 99.330612454787428,
    102.96819861451381, 106.63176026064346, 110.32063971475739, 114.03421178146171,
    117.77188139974507, 121.53308151543864, 125.3172711493569, 129.12393363912722,
    132.95257503561632, 136.80272263732635, 140.67392364823425, 144.5657439463449,
    148.47776695177302, 152.40959258449735, 156.3608363030788, 160.3311282166309,
    164.32011226319517, 168.32744544842765, 172.35279713916279, 176.39584840699735,
    180.45629141754378, 184.53382886144948, 188.6281734236716, 192.7390472878449,
    196.86618167289001, 201.00931639928152, 205.1681994826412, 209.34258675253685,
    213.53224149456327, 217.73693411395422, 221.95644181913033, 226.1905483237276,
    230.43904356577696, 234.70172344281826, 238.97838956183432, 243.26884900298271,
    247.57291409618688, 251.89040220972319, 256.22113555000954, 260.56494097186322,
    264.92164979855278, 269.29109765101981, 273.67312428569369, 278.06757344036612,
    282.4742926876304, 286.89313329542699, 291.32395009427029, 295.76660135076065,
    300.22094864701415, 304.68685676566872, 309.1641935801469, 313.65282994987905,
    318.1526396202093, 322.66349912672615, 327.1852877037752, 331.71788719692847,
    336.26118197919845, 340.81505887079902, 345.37940706226686, 349.95411804077025,
    354.53908551944079, 359.1342053695754, 363.73937555556347, 368.35449607240474,
    372.97946888568902, 377.61419787391867, 382.25858877306001, 386.91254912321756,
    391.57598821732961, 396.24881705179155, 400.93094827891576, 405.6222961611449,
    410.32277652693733, 415.03230672824964, 419.75080559954472, 424.47819341825709,
    429.21439186665157, 433.95932399501481, 438.71291418612117, 443.47508812091894,
    448.24577274538461, 453.02489623849613, 457.81238798127816, 462.60817852687489,
    467.4121995716082, 472.22438392698058, 477.04466549258564, 481.87297922988796,
], dtype=np.float64)

HALF_LN_2PI = 0.9189385332046728
D1 = 1.7155277699214135  # 2*sqrt(2/e)
D2 = 0.8989161620588988  # 3 - 2*sqrt(3/e)


def _bitgen_call(result: types.Type, llvm_result: ir.Type):  # noqa: ANN202 (an intrinsic)
    """An intrinsic calling a bit generator's C function `result f(void *state)` at an
    integer address, the way numba/np/random/generator_core.py calls a bitgen's fnptrs."""

    def call(typingctx, fn, state):  # noqa: ANN001, ANN202, ARG001 (numba's signature)
        def codegen(context, builder, sig, args):  # noqa: ANN001, ANN202, ARG001
            fn_addr, state_addr = args
            fnty = ir.FunctionType(llvm_result, [ir.IntType(8).as_pointer()])
            fn_ptr = builder.inttoptr(fn_addr, fnty.as_pointer())
            state_ptr = builder.inttoptr(state_addr, ir.IntType(8).as_pointer())
            return builder.call(fn_ptr, [state_ptr])

        return result(fn, state), codegen

    return intrinsic(call)


_next_double = _bitgen_call(types.float64, ir.DoubleType())
_next_uint32 = _bitgen_call(types.uint32, ir.IntType(32))


@numba.njit(cache=True)
def logfactorial(k: int) -> float:
    """numpy's log(k!): its table below 126, else Stirling's series to the 1/k**3 term."""
    if k < 126:
        return LOGFACT[k]
    x = float(k)
    stirling = (x + 0.5) * math.log(x) - x
    return stirling + (HALF_LN_2PI + (1.0 / x) * (1 / 12.0 - 1 / (360.0 * x * x)))


@numba.njit(cache=True)
def random_interval(fns: np.ndarray, max_: int) -> int:
    """numpy's random_interval: an integer in [0, max_] by masked rejection, one uint32 per try
    (numpy's buffered half included). numpy takes a uint64 past 32 bits, which the marginals
    never reach (their totals stay under MARGINALS_LIMIT < 2**32), so that branch is left out."""
    if max_ == 0:
        return 0
    top = np.uint64(max_)
    mask = top
    mask |= mask >> np.uint64(1)
    mask |= mask >> np.uint64(2)
    mask |= mask >> np.uint64(4)
    mask |= mask >> np.uint64(8)
    mask |= mask >> np.uint64(16)
    mask |= mask >> np.uint64(32)
    value = np.uint64(_next_uint32(fns[1], fns[0])) & mask
    while value > top:
        value = np.uint64(_next_uint32(fns[1], fns[0])) & mask
    return np.int64(value)


@numba.njit(cache=True)
def hypergeometric_sample(fns: np.ndarray, good: int, bad: int, sample: int) -> int:
    """numpy's draw for small samples: pick units one at a time (the complement past half)."""
    total = good + bad
    computed_sample = total - sample if sample > total // 2 else sample
    remaining_total = total
    remaining_good = good
    while computed_sample > 0 and remaining_good > 0 and remaining_total > remaining_good:
        remaining_total -= 1
        if random_interval(fns, remaining_total) < remaining_good:
            remaining_good -= 1
        computed_sample -= 1
    if remaining_total == remaining_good:
        remaining_good -= computed_sample
    if sample > total // 2:
        return remaining_good
    return good - remaining_good


@numba.njit(cache=True)
def hypergeometric_hrua(fns: np.ndarray, good: int, bad: int, sample: int) -> int:
    """numpy's ratio-of-uniforms draw (Stadlober's HRUA), expression for expression."""
    popsize = good + bad
    computed_sample = min(sample, popsize - sample)
    mingoodbad = min(good, bad)
    maxgoodbad = max(good, bad)
    p = float(mingoodbad) / float(popsize)
    q = float(maxgoodbad) / float(popsize)
    mu = float(computed_sample) * p
    a = mu + 0.5
    var = float(popsize - computed_sample) * float(computed_sample) * p * q / float(popsize - 1)
    c = math.sqrt(var + 0.5)
    h = D1 * c + D2
    m = np.int64(np.floor(float(computed_sample + 1) * float(mingoodbad + 1) / float(popsize + 2)))
    g = (logfactorial(m) + logfactorial(mingoodbad - m) + logfactorial(computed_sample - m)
         + logfactorial(maxgoodbad - computed_sample + m))
    support = float(min(computed_sample, mingoodbad) + 1)
    tail = np.floor(a + 16.0 * c)
    b = support if support < tail else tail
    while True:
        u = _next_double(fns[2], fns[0])
        v = _next_double(fns[2], fns[0])
        x = a + h * (v - 0.5) / u
        if x < 0.0 or x >= b:  # fast rejection
            continue
        k = np.int64(np.floor(x))
        gp = (logfactorial(k) + logfactorial(mingoodbad - k) + logfactorial(computed_sample - k)
              + logfactorial(maxgoodbad - computed_sample + k))
        t = g - gp
        if u * (4.0 - u) - 3.0 <= t:  # fast acceptance
            break
        if u * (u - t) >= 1:  # fast rejection
            continue
        if 2.0 * math.log(u) <= t:  # acceptance
            break
    if good > bad:
        k = computed_sample - k
    if computed_sample < sample:
        k = good - k
    return k


@numba.njit(cache=True)
def random_hypergeometric(fns: np.ndarray, good: int, bad: int, sample: int) -> int:
    """numpy's univariate draw: HRUA unless the sample is within 10 of either end."""
    if sample >= 10 and sample <= good + bad - 10:
        return hypergeometric_hrua(fns, good, bad, sample)
    return hypergeometric_sample(fns, good, bad, sample)


@numba.njit("boolean(int64[::1], int64[::1], int64, int64[::1])", cache=True)
def marginals_into(fns: np.ndarray, colors: np.ndarray, nsample: int, out: np.ndarray) -> bool:
    """numpy's random_multivariate_hypergeometric_marginals for one variate, into zeroed `out`,
    after numpy's checks: False (nothing drawn) where numpy would refuse the input."""
    total = 0
    for j in range(colors.size):
        if colors[j] < 0 or colors[j] >= MARGINALS_LIMIT:
            return False
        total += colors[j]
        if total >= MARGINALS_LIMIT:
            return False
    if nsample < 0 or nsample > total:
        return False
    if total == 0 or nsample == 0:
        return True
    more_than_half = nsample > total // 2
    if more_than_half:
        nsample = total - nsample
    n = colors.size
    num_to_sample = nsample
    remaining = total
    j = 0
    while num_to_sample > 0 and j + 1 < n:
        remaining -= colors[j]
        r = random_hypergeometric(fns, colors[j], remaining, num_to_sample)
        out[j] = r
        num_to_sample -= r
        j += 1
    if num_to_sample > 0:
        out[n - 1] = num_to_sample
    if more_than_half:
        for k in range(n):
            out[k] = colors[k] - out[k]
    return True


fallbacks = 0  # draws handed to numpy: the tests hold this at zero on the kernel's inputs
_last_bitgen: object = None  # the last bit generator seen, kept alive while its addresses are
_last_fns = np.zeros(3, np.int64)  # [state, next_uint32, next_double] addresses


def bitgen_addresses(bitgen: object) -> np.ndarray | None:
    """The bit generator's state and C functions as addresses (None without the ctypes view).
    The last generator's are kept: the model draws from one generator all run long."""
    global _last_bitgen, _last_fns
    if bitgen is _last_bitgen:
        return _last_fns
    try:
        view = bitgen.ctypes  # type: ignore[attr-defined]
        fns = np.array([
            view.state_address,
            ctypes.cast(view.next_uint32, ctypes.c_void_p).value,
            ctypes.cast(view.next_double, ctypes.c_void_p).value,
        ], dtype=np.int64)
    except (AttributeError, TypeError):
        return None
    _last_bitgen, _last_fns = bitgen, fns
    return fns


def multivariate_hypergeometric(
    rng: np.random.Generator, colors: np.ndarray, nsample: int
) -> np.ndarray:
    """rng.multivariate_hypergeometric(colors, nsample) (method 'marginals', one variate): the
    same draw and the same generator state after, compiled for 1-D contiguous int64 colours
    (the kernel's typed signature turns anything else away, a TypeError, to numpy)."""
    global fallbacks
    bitgen = rng.bit_generator
    fns = _last_fns if bitgen is _last_bitgen else bitgen_addresses(bitgen)
    if fns is not None and type(nsample) is int:
        try:
            out = np.zeros(len(colors), np.int64)
            if marginals_into(fns, colors, nsample, out):
                return out
        except (TypeError, OverflowError):
            pass
    fallbacks += 1
    return rng.multivariate_hypergeometric(colors, nsample)
