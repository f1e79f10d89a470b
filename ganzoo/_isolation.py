"""Isolating plugins inside pluggy's own hook calls.

Every hook is called through pluggy (``pm.hook.on_log(...)``), so ``tryfirst``, ``trylast`` and wrappers
(``wrapper=True``, ``hookwrapper=True``) order and wrap implementations as pluggy documents. pluggy, though,
ends a call at the first implementation that raises, and ganzoo must not let one broken plugin stop the
others. The options weighed:

- calling each implementation by hand (what ganzoo did before): no order, and wrappers never run;
- ``pm.subset_hook_caller`` without the plugins that failed before: the first failure still ends the call
  for every implementation after it;
- ``pm.add_hookcall_monitoring``: it sees a call as a whole and cannot resume one after a failure;
- a proxy per plugin (this module): what pluggy holds for a plugin is an object whose hook implementations
  are the plugin's own, each behind a guard that carries the same hookimpl options. pluggy orders and wraps
  them as usual; the guard catches what the plugin raises, records it in the caller's `Policy`, and returns
  ``None``, so the other implementations still run.

The caller decides what a failure means (a plugin's registration is discarded, a lifecycle hook is switched
off for the run); a hook called with no policy runs the plugin's code unguarded. Only public pluggy API is
used: ``register``, ``unregister``, ``get_hookcallers`` and ``HookImpl.function``/``opts``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pluggy

from ganzoo.hookspecs import hookimpl

Key = tuple[str, str]  # (plugin name, hook name)
Teardown = Generator[None, Any, Any]  # a hook wrapper, stopped at its yield


@dataclass
class Policy:
    """How one hook call (or a series of them) treats plugin code that raises."""

    catches: tuple[type[BaseException], ...] = (Exception,)
    #: (plugin, hook) pairs that are not called; a failure adds its pair
    off: set[Key] = field(default_factory=set)
    #: (plugin, hook, exception) for each failure, in order; the caller reports and clears them
    failures: list[tuple[str, str, BaseException]] = field(default_factory=list)
    #: called with the plugin's name after each piece of its code ran (to see what that plugin did)
    after_each: Callable[[str], None] | None = None


class Isolation:
    """Registers plugins behind guards, and knows which plugin's code is running."""

    def __init__(self) -> None:
        self.running: str | None = None  # the plugin whose hook code runs now (registering callbacks ask)
        self._policy: Policy | None = None

    @contextmanager
    def applying(self, policy: Policy) -> Iterator[Policy]:
        """Hook calls made inside this block isolate plugins as ``policy`` says."""
        previous, self._policy = self._policy, policy
        try:
            yield policy
        finally:
            self._policy = previous

    def register(self, pm: pluggy.PluginManager, plugin: object, name: str) -> None:
        """Register ``plugin`` under ``name`` behind guards. pluggy validates the plugin itself first, so a
        hook name no hookspec has (or an argument a hookspec lacks) raises ``PluginValidationError``."""
        pm.register(plugin, name=name)
        try:
            pm.check_pending()  # a misspelt hook name fails here, naming the hook
            callers = {caller.name: caller for caller in pm.get_hookcallers(plugin) or []}  # 1.3 repeats them
            impls = [
                (hook, impl)
                for hook, caller in callers.items()
                for impl in caller.get_hookimpls()
                if impl.plugin is plugin
            ]
        finally:
            pm.unregister(plugin)
        proxy = _Proxy(plugin, name)
        for number, (hook, impl) in enumerate(impls):
            guard = self._guard((name, hook), impl)
            guard.__wrapped__ = impl.function  # type: ignore[attr-defined]  # pluggy reads argument names here
            # named after its hook where it can be: pluggy 1.3's subset_hook_caller looks hooks up by attribute name
            attribute = f"{hook}_{number}" if hook in vars(proxy) else hook
            vars(proxy)[attribute] = hookimpl(
                guard,
                specname=hook,
                tryfirst=impl.tryfirst,
                trylast=impl.trylast,
                wrapper=impl.wrapper,
                hookwrapper=impl.hookwrapper,
                optionalhook=impl.optionalhook,
            )
        pm.register(proxy, name=name)

    # -- guards: one per hook implementation ----------------------------------------------------
    def _guard(self, key: Key, impl: pluggy.HookImpl) -> Callable[..., Any]:
        function = impl.function
        if impl.wrapper:
            return self._new_style_wrapper(key, function)
        if impl.hookwrapper:
            return self._old_style_wrapper(key, function)

        def call(*args: Any, **kwargs: Any) -> Any:
            policy = self._policy
            if policy is None:
                return function(*args, **kwargs)
            if key in policy.off:
                return None
            return self._run(policy, key, lambda: function(*args, **kwargs))[1]

        return call

    def _new_style_wrapper(self, key: Key, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrap(*args: Any, **kwargs: Any) -> Generator[None, Any, Any]:
            policy = self._policy
            if policy is None:
                return (yield from function(*args, **kwargs))
            teardown = self._start(policy, key, lambda: function(*args, **kwargs))
            if teardown is None:
                return (yield)
            try:
                result = yield
            except BaseException as exc:  # only what no guard isolates gets here: the wrapper sees it, as in pluggy
                return _finish(teardown, error=exc)
            finished, value = self._run(policy, key, lambda: _finish(teardown, result))
            return value if finished else result

        return wrap

    def _old_style_wrapper(self, key: Key, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrap(*args: Any, **kwargs: Any) -> Generator[None, Any, None]:
            policy = self._policy
            if policy is None:
                yield from function(*args, **kwargs)
                return
            teardown = self._start(policy, key, lambda: function(*args, **kwargs))
            outcome = yield  # a pluggy.Result: old-style wrappers see errors in it, never thrown
            if teardown is not None:
                self._run(policy, key, lambda: _finish(teardown, outcome))

        return wrap

    def _start(self, policy: Policy, key: Key, call: Callable[[], Teardown]) -> Teardown | None:
        """Run a wrapper up to its ``yield``; None when it is off or failed."""
        if key in policy.off:
            return None
        return self._run(policy, key, lambda: _started(call()))[1]

    def _run(self, policy: Policy, key: Key, code: Callable[[], Any]) -> tuple[bool, Any]:
        """Run a piece of one plugin's code: (True, what it returned), or (False, None) when it raised."""
        previous, self.running = self.running, key[0]
        try:
            return True, code()
        except policy.catches as exc:
            policy.off.add(key)
            policy.failures.append((*key, exc))
            return False, None
        finally:
            self.running = previous
            if policy.after_each is not None:
                policy.after_each(key[0])


class _Proxy:
    """What pluggy holds for one plugin: the plugin's hook implementations, each behind a guard."""

    def __init__(self, plugin: object, name: str) -> None:
        self.plugin, self.name = plugin, name

    def __repr__(self) -> str:
        return f"<ganzoo plugin {self.name!r}: {self.plugin!r}>"


def _started(teardown: Teardown) -> Teardown:
    try:
        next(teardown)
    except StopIteration:
        raise RuntimeError("the hook wrapper did not yield") from None
    return teardown


def _finish(teardown: Teardown, result: Any = None, error: BaseException | None = None) -> Any:
    """Run a wrapper's code after its ``yield``, sending it the result (or throwing it the error); what it returns."""
    try:
        if error is not None:
            teardown.throw(error)
        else:
            teardown.send(result)
    except StopIteration as stop:
        return stop.value
    teardown.close()
    raise RuntimeError("the hook wrapper yielded twice")
