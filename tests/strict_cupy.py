"""A strict stand-in for CuPy: NumPy underneath, CuPy's rules on top, and a count of what a GPU would do.

The device path (``pipeline/model/device_batch.py``, the estimator's fit and prediction on ``gpu``,
the self-check) runs in CI under this module instead of CuPy, so that what would break or slow a real
GPU breaks or counts here:

- an array of this module refuses to become a NumPy array (``np.asarray(a)``, a NumPy function or ufunc
  applied to it, a NumPy array mixed into its arithmetic) and a Python scalar (``float(a)``, ``int(a)``,
  ``bool(a)``, ``if a:``): CuPy refuses the first kinds, and the second is a hidden wait for the device.
  The only ways to the host are ``a.get()`` and ``asnumpy(a)``, and each counts as a host sync.
- every call that would launch work on a GPU counts as one array operation: a function of the module,
  an operator, a reduction or ``astype``, a fancy index or an assignment into an array. Views (basic
  slicing, ``reshape``, ``.T``) and attribute reads count nothing.

``StrictCupy(fault=...)`` also makes the faults a broken install shows at its first kernel, for the
self-check's tests: ``"no_libraries"``, ``"no_kernel"``, ``"out_of_memory"``, ``"wrong_results"``.
"""

from __future__ import annotations

import types

import numpy as np

SCALAR_REFUSAL = ("a device array does not turn into a Python scalar implicitly (that would wait for the "
                  "device): use .get()")


class CUDARuntimeError(RuntimeError):
    """What cupy_backends.cuda.api.runtime raises."""


class OutOfMemoryError(MemoryError):
    """What cupy.cuda.memory raises."""


FAULTS = {
    "no_libraries": lambda: RuntimeError("CuPy failed to load libnvrtc.so.12: OSError: libnvrtc.so.12: cannot open "
                                         "shared object file: No such file or directory"),
    "no_kernel": lambda: CUDARuntimeError("cudaErrorNoKernelImageForDevice: no kernel image is available for "
                                          "execution on the device"),
    "out_of_memory": lambda: OutOfMemoryError("Out of memory allocating 1,048,576 bytes (allocated so far: 0 bytes)."),
}


class StrictCupy(types.ModuleType):
    """One stand-in module: ``ndarray``, the functions, ``cuda``, and ``counts`` of operations and syncs."""

    def __init__(self, fault: str | None = None, capability: tuple[int, int] = (9, 0)):
        super().__init__("strict_cupy")
        self.fault, self.capability = fault, capability
        self.counts = {"ops": 0, "syncs": 0}
        self.__version__ = "14.0.0 (strict stand-in)"
        module = self

        class ndarray:  # noqa: N801 (CuPy's name)
            __slots__ = ("_a",)
            __array_ufunc__ = None  # NumPy's ufuncs refuse it
            __hash__ = None

            def __init__(self, a):
                self._a = a

            def __array_function__(self, func, types_, args, kwargs):
                return NotImplemented  # NumPy's functions refuse it

            def __array__(self, *args, **kwargs):
                raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to "
                                "construct a NumPy array explicitly.")

            def _scalar(self, *args):
                raise TypeError(SCALAR_REFUSAL)

            __float__ = __int__ = __bool__ = __index__ = __complex__ = _scalar

            def item(self):
                self._scalar()

            def tolist(self):
                self._scalar()

            def get(self):
                module.counts["syncs"] += 1
                return np.array(self._a)

            # attributes and views: no work on a device
            shape = property(lambda self: self._a.shape)
            dtype = property(lambda self: self._a.dtype)
            ndim = property(lambda self: self._a.ndim)
            size = property(lambda self: self._a.size)
            nbytes = property(lambda self: self._a.nbytes)
            strides = property(lambda self: self._a.strides)
            T = property(lambda self: ndarray(self._a.T))
            flags = property(lambda self: self._a.flags)

            def __len__(self):
                return len(self._a)

            def reshape(self, *shape, **kwargs):
                return ndarray(self._a.reshape(*shape, **kwargs))

            def ravel(self):
                return ndarray(self._a.ravel())

            def transpose(self, *axes):
                return ndarray(self._a.transpose(*axes))

            def __getitem__(self, key):
                key = module._key(key)
                fancy = _is_fancy(key)
                if fancy:
                    module._launch()
                return ndarray(self._a[key])

            def __setitem__(self, key, value):
                module._launch()
                self._a[module._key(key)] = module._operand(value)

            def __repr__(self):
                return f"strict_cupy.ndarray({self._a!r})"

        def method(name):
            def call(self, *args, **kwargs):
                module._launch()
                out = kwargs.get("out")
                result = getattr(self._a, name)(*[module._operand(a) for a in args],
                                                **{k: module._operand(v) for k, v in kwargs.items()})
                return out if out is not None else module._wrap(result)
            return call

        for name in ("astype", "sum", "max", "min", "argmax", "argmin", "mean", "copy", "fill", "any", "all", "dot"):
            setattr(ndarray, name, method(name))

        def operator(name):
            def call(self, *args):
                module._launch()
                result = getattr(self._a, name)(*[module._operand(a) for a in args])
                if result is NotImplemented:
                    return result
                return self if name.startswith("__i") and name not in ("__invert__",) else module._wrap(result)
            return call

        for name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor"):
            for form in (f"__{name}__", f"__r{name}__", f"__i{name}__"):
                if hasattr(np.ndarray, form):
                    setattr(ndarray, form, operator(form))
        for form in ("__neg__", "__pos__", "__abs__", "__invert__", "__lt__", "__le__", "__gt__", "__ge__",
                     "__eq__", "__ne__"):
            setattr(ndarray, form, operator(form))

        self.ndarray = ndarray
        for name in ("float16", "float32", "float64", "int8", "int32", "int64", "intp", "uint8", "bool_"):
            setattr(self, name, getattr(np, name))
        self.newaxis = None
        self.cuda = _cuda_namespace(self)

    # -- the module's functions ----------------------------------------------------------------------
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        target = getattr(np, name)
        if not callable(target):
            raise AttributeError(name)

        def call(*args, **kwargs):
            self._launch()
            out = kwargs.get("out")
            result = target(*[self._operand(a) for a in args], **{k: self._operand(v) for k, v in kwargs.items()})
            return out if isinstance(out, self.ndarray) else self._wrap(result)

        call.__name__ = name
        return call

    def asarray(self, a, dtype=None):
        """Host to device (one transfer, counted as an operation); a device array stays as it is."""
        if isinstance(a, self.ndarray):
            return a if dtype is None or a.dtype == dtype else a.astype(dtype)
        self._launch()
        return self.ndarray(np.array(a, dtype=dtype))

    array = asarray

    def asnumpy(self, a):
        return a.get() if isinstance(a, self.ndarray) else np.asarray(a)

    def get_array_module(self, *arrays):
        return self if any(isinstance(a, self.ndarray) for a in arrays) else np

    # -- helpers -------------------------------------------------------------------------------------
    def _launch(self):
        if self.fault in FAULTS:
            raise FAULTS[self.fault]()
        self.counts["ops"] += 1

    def _operand(self, value):
        if isinstance(value, self.ndarray):
            return value._a
        if isinstance(value, np.ndarray):
            raise TypeError(f"Unsupported type {type(value)}: a NumPy array where a device array is expected "
                            f"(move it with asarray)")
        if isinstance(value, (list, tuple)) and any(isinstance(v, (self.ndarray, np.ndarray)) for v in value):
            return type(value)(self._operand(v) for v in value)
        return value

    def _key(self, key):
        if isinstance(key, tuple):
            return tuple(self._operand(k) for k in key)
        return self._operand(key)

    def _wrap(self, result):
        if isinstance(result, np.ndarray):
            if self.fault == "wrong_results" and result.dtype.kind == "f":
                result = result * np.asarray(1.01, result.dtype)
            return self.ndarray(result)
        if isinstance(result, (np.generic, int, float, bool)):
            return self.ndarray(np.asarray(result))
        if isinstance(result, tuple):
            return tuple(self._wrap(r) for r in result)
        return result

    def reset_counts(self):
        self.counts.update(ops=0, syncs=0)


def _is_fancy(key) -> bool:
    keys = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, (np.ndarray, list)) for k in keys)


def _cuda_namespace(module: StrictCupy):
    class Device:
        def __init__(self, device=0):
            self.id = device
            self.compute_capability = f"{module.capability[0]}{module.capability[1]}"

    class Stream:
        pass

    class NullStream:
        @staticmethod
        def synchronize():
            module.counts["syncs"] += 1

    Stream.null = NullStream()
    runtime = types.SimpleNamespace(
        getDeviceCount=lambda: 1,
        getDeviceProperties=lambda device: {"name": b"Strict CuPy stand-in", "major": module.capability[0],
                                            "minor": module.capability[1],
                                            "totalGlobalMem": 80 * 2 ** 30},
        runtimeGetVersion=lambda: 13000,
    )
    return types.SimpleNamespace(Device=Device, Stream=Stream, runtime=runtime)
