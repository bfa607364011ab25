"""The call engine: menu model + call state + caller input -> the next step.

Pure Python: nothing here knows about Flask, HTTP or XML. The web layer renders the steps.
"""
from ivr.engine.machine import CallEnv, Engine
from ivr.engine.model import MenuFile
from ivr.engine.state import CallState
from ivr.engine.steps import Dial, Enqueue, Gather, Hangup, Record, Reply, Speak

__all__ = ["CallEnv", "CallState", "Dial", "Engine", "Enqueue", "Gather", "Hangup", "MenuFile",
           "Record", "Reply", "Speak"]
