"""``@record``: a dataclass that costs next to nothing to define.

Python 3.11's ``@dataclass`` compiles six functions per frozen class when the class is defined
(``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``, ``__delattr__``): ~1 ms
a class, ~35 ms for the classes every command imports, ``--help`` included. ``@record`` makes
the same dataclass (``fields``, ``replace``, ``__match_args__``, slots, FrozenInstanceError,
equality and hashes equal to ``@dataclass``'s) but compiles nothing up front: ``__eq__``,
``__hash__``, ``__repr__`` and the frozen guards are shared closures over ``operator.attrgetter``
(as fast as the generated ones). ``__init__`` binds its arguments in plain Python for a class's
first ``COMPILE_AFTER`` instances (most classes a command uses have one or two: a Config, a
Roadmap, a ChangeSet) and is then compiled, as ``@dataclass`` writes it, for the classes built by
the hundred. Type checkers see a dataclass (``dataclass_transform``).
"""

from __future__ import annotations

import dataclasses
import inspect  # loaded by dataclasses anyway
import operator
import reprlib
from collections.abc import Callable
from typing import Any, TypeVar, cast, dataclass_transform

_T = TypeVar("_T")


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def record(
    *, frozen: bool = False, slots: bool = False, eq: bool = True
) -> Callable[[type[_T]], type[_T]]:
    """``@dataclass(frozen=..., slots=..., eq=...)``, ``init`` and ``repr`` on."""

    def wrap(cls: type[_T]) -> type[_T]:
        if not cls.__doc__:  # else @dataclass writes one through inspect.signature: ~9 ms first
            cls.__doc__ = f"{cls.__name__}({', '.join(inspect.get_annotations(cls))})"
        made: Any = _dataclass(cls, slots)
        _install(made, frozen, eq)
        if frozen and slots:  # as @dataclass: copy and pickle cannot restore through setattr
            type.__setattr__(made, "__getstate__", _getstate)
            type.__setattr__(made, "__setstate__", _setstate)
        return cast("type[_T]", made)

    return wrap


class _Plain:
    """Stands in for a field's annotation while ``@dataclass`` reads the class (see below)."""

    __slots__ = ()


_PLAIN = _Plain()
#: Annotations ``@dataclass`` must see as written: they change what the name is, or is not.
_MARKERS = ("ClassVar", "InitVar", "KW_ONLY")


def _dataclass(cls: Any, slots: bool) -> Any:
    """``dataclasses.dataclass(cls, ...)`` without its look at each string annotation.

    Under ``from __future__ import annotations`` every annotation is a string, and
    ``@dataclass`` asks of each one three times whether it names ``ClassVar``, ``InitVar`` or
    ``KW_ONLY`` (a regular-expression match and a look into the module's namespace): a third
    of defining a class. Annotations that cannot name one are shown to it as a plain object,
    then given back, to the class and to its fields, as they were written.
    """
    own = cls.__dict__.get("__annotations__")  # noqa: RUF063 (the dict @dataclass reads)
    plain: dict[str, str] = {}
    if isinstance(own, dict):
        plain = {
            name: text
            for name, text in own.items()
            if type(text) is str and not any(m in text for m in _MARKERS)
        }
        own.update(dict.fromkeys(plain, _PLAIN))
    try:
        made = dataclasses.dataclass(cls, init=False, repr=False, eq=False, slots=slots)
    finally:
        if plain:
            own.update(plain)  # the same dict: the class made for __slots__ shares it
    for f in made.__dataclass_fields__.values():
        if f.type is _PLAIN:
            f.type = plain[f.name]
    return made


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, f.name) for f in dataclasses.fields(self)]


def _setstate(self: Any, state: list[Any]) -> None:
    for f, value in zip(dataclasses.fields(self), state, strict=True):
        object.__setattr__(self, f.name, value)


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A C-level ``lambda o: (o.a, o.b, ...)``: always a tuple, as the generated code builds."""
    if not names:
        return lambda o: ()
    get = operator.attrgetter(*names)
    if len(names) == 1:
        return lambda o: (get(o),)
    return get


def _install(cls: Any, frozen: bool, eq: bool) -> None:
    fields = dataclasses.fields(cls)
    compared = _getter(tuple(f.name for f in fields if f.compare))
    hashed = _getter(tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash)))
    shown = tuple(f.name for f in fields if f.repr)
    names = frozenset(f.name for f in fields)

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in shown)
        return f"{self.__class__.__qualname__}({inner})"

    __init__ = _early_init(cls, frozen, fields)

    methods: list[Any] = [__eq__, __repr__, __init__] if eq else [__repr__, __init__]
    for fn in methods:
        fn.__qualname__ = f"{cls.__qualname__}.{fn.__name__}"
        type.__setattr__(cls, fn.__name__, fn)
    if eq and not frozen:
        type.__setattr__(cls, "__hash__", None)  # eq without frozen: unhashable, as @dataclass
    if not frozen:
        return

    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    methods = [__hash__, __setattr__, __delattr__] if eq else [__setattr__, __delattr__]
    for fn in methods:
        fn.__qualname__ = f"{cls.__qualname__}.{fn.__name__}"
        type.__setattr__(cls, fn.__name__, fn)


#: Instances a class builds through the plain-Python ``__init__`` before it compiles its own.
COMPILE_AFTER = 32


def _early_init(cls: Any, frozen: bool, fields: tuple[Any, ...]) -> Callable[..., None]:
    """An ``__init__`` that binds arguments as the compiled one does, without compiling it.

    Compiling costs ~0.15 ms a class; binding here costs ~2 µs more a call than the compiled
    ``__init__``. After ``COMPILE_AFTER`` calls the class compiles its own and installs it.
    Anything unusual (a missing, unknown or repeated argument, keyword-only fields, a
    ``__post_init__``) goes to the compiled one, so errors read exactly as ``@dataclass``'s.
    """
    names = tuple(f.name for f in fields)
    known = frozenset(names)
    defaults = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
    factories = {
        f.name: f.default_factory for f in fields if f.default_factory is not dataclasses.MISSING
    }
    required = known - defaults.keys() - factories.keys()
    store: Callable[[Any, str, Any], None] = object.__setattr__ if frozen else setattr
    plain = not hasattr(cls, "__post_init__") and all(
        f.kw_only is not True and f.init for f in fields
    )
    calls = 0

    def compiled() -> Callable[..., None]:
        real = _compiled_init(cls, frozen)
        type.__setattr__(cls, "__init__", real)
        return real

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if not plain or calls > COMPILE_AFTER or len(args) > len(names):
            compiled()(self, *args, **kwargs)
            return
        given = dict(zip(names, args, strict=False))  # len(args) <= len(names)
        if kwargs:
            if not known.issuperset(kwargs) or not given.keys().isdisjoint(kwargs):
                compiled()(self, *args, **kwargs)  # raises the TypeError @dataclass raises
                return
            given.update(kwargs)
        if not required.issubset(given):
            compiled()(self, *args, **kwargs)
            return
        for name in names:
            if name in given:
                store(self, name, given[name])
            elif name in defaults:
                store(self, name, defaults[name])
            else:
                store(self, name, factories[name]())

    return __init__


def _compiled_init(cls: Any, frozen: bool) -> Callable[..., None]:
    """The ``__init__`` ``@dataclass`` would write for ``cls``, compiled alone (``dataclasses``
    would also compile the frozen guards again). Fields keep their order, defaults and default
    factories; a frozen class stores through ``object.__setattr__``, as ``@dataclass`` does.
    A class outside that (keyword-only fields, ``__post_init__``) gets ``dataclasses``' own."""
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__") or any(f.kw_only is True or not f.init for f in fields):
        return _dataclasses_init(cls, frozen)
    scope: dict[str, Any] = {"__set": object.__setattr__, "__none": _NO_VALUE}
    params: list[str] = []
    body: list[str] = []
    for n, f in enumerate(fields):
        value = f.name
        if f.default is not dataclasses.MISSING:
            scope[f"__d{n}"] = f.default
            params.append(f"{f.name}=__d{n}")
        elif f.default_factory is not dataclasses.MISSING:
            scope[f"__f{n}"] = f.default_factory
            params.append(f"{f.name}=__none")
            value = f"__f{n}() if {f.name} is __none else {f.name}"
        else:
            params.append(f.name)
        body.append(
            f"    __set(self, {f.name!r}, {value})" if frozen else f"    self.{f.name} = {value}"
        )
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or ["    pass"])
    exec(source, scope)
    init: Callable[..., None] = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


class _NoValue:
    """The default of a field with a default factory: "not given"."""

    def __repr__(self) -> str:
        return "<factory>"


_NO_VALUE = _NoValue()


def _dataclasses_init(cls: Any, frozen: bool) -> Callable[..., None]:
    """``@dataclass``'s own ``__init__`` for ``cls``, made on a stand-in class with its fields."""
    ns: dict[str, Any] = {
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__annotations__": {f.name: f.type for f in dataclasses.fields(cls)},
    }
    for f in dataclasses.fields(cls):
        ns[f.name] = dataclasses.field(
            default=f.default,
            default_factory=f.default_factory,
            init=f.init,
            kw_only=f.kw_only,
        )
    if hasattr(cls, "__post_init__"):
        ns["__post_init__"] = cls.__post_init__
    blank: Any = type(cls.__name__, (), ns)
    stand_in: Any = dataclasses.dataclass(blank, repr=False, eq=False, frozen=frozen)
    init: Callable[..., None] = stand_in.__dict__["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init
