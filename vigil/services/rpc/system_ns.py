"""The ``system.*`` namespace: introspection and multicall over the registry.

The method docstrings are part of the wire contract: ``system.methodHelp`` returns them
verbatim and ``system.methodSignature`` parses their tags, so they are kept word for word (and
indentation for indentation) the same as Supervisor 4.3.0's.
"""

from __future__ import annotations

from typing import Any

from vigil.faults import Faults, RPCError
from vigil.services.rpc.registry import RpcRegistry, published

RECURSIVE_MULTICALL = "Recursive system.multicall forbidden"


class SystemNamespace:
    def __init__(self, registry: RpcRegistry) -> None:
        self._registry = registry

    @published
    async def listMethods(self) -> list[str]:
        """ Return an array listing the available method names

        @return array result  An array of method names available (strings).
        """
        return self._registry.method_names()

    @published
    async def methodHelp(self, name: str) -> str:
        """ Return a string showing the method's documentation

        @param string name   The name of the method.
        @return string result The documentation for the method name.
        """
        return self._registry.method_help(name)

    @published
    async def methodSignature(self, name: str) -> list[str]:
        """ Return an array describing the method signature in the
        form [rtype, ptype, ptype...] where rtype is the return data type
        of the method, and ptypes are the parameter data types that the
        method accepts in method argument order.

        @param string name  The name of the method.
        @return array result  The result.
        """
        return self._registry.method_signature(name)

    @published
    async def multicall(self, calls: list[Any]) -> list[Any]:
        """Process an array of calls, and return an array of
        results. Calls should be structs of the form {'methodName':
        string, 'params': array}. Each result will either be a
        single-item array containing the result value, or a struct of
        the form {'faultCode': int, 'faultString': string}. This is
        useful when you need to make lots of small calls without lots
        of round trips.

        @param array calls  An array of call requests
        @return array result  An array of results
        """
        # One call at a time, each awaited to the end: a later call may depend on the effect of
        # an earlier one (stop then start), which is what clients batch them for.
        return [await self._one_call(call) for call in calls]

    async def _one_call(self, call: object) -> Any:
        """The result of one call, appended raw (not wrapped in a one-element array, despite
        the docstring above: Supervisor 4.3.0 does not wrap them and clients rely on that)."""
        try:
            if not isinstance(call, dict):
                raise RPCError(Faults.INCORRECT_PARAMETERS, "Each call must be a struct")
            name = call.get("methodName")
            params = call.get("params", [])
            if name is None:
                raise RPCError(Faults.INCORRECT_PARAMETERS, "No methodName")
            if name == "system.multicall":
                raise RPCError(Faults.INCORRECT_PARAMETERS, RECURSIVE_MULTICALL)
            if not isinstance(params, list):
                raise RPCError(Faults.INCORRECT_PARAMETERS)
            return await self._registry.call(name, params)
        except RPCError as fault:
            return {"faultCode": int(fault.code), "faultString": fault.text}
        except Exception as exc:
            # Supervisor's exact text: the class as str() shows it, a colon, the message.
            return {"faultCode": int(Faults.FAILED), "faultString": f"FAILED: {type(exc)}:{exc}"}


def add_system_namespace(registry: RpcRegistry) -> None:
    registry.add_namespace("system", SystemNamespace(registry))
