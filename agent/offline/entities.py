"""Temporary: the yes/no readers at their old path, for ``agent/graph.py`` only.

The graph is being rewritten into ``agent/nodes/`` on another branch; its confirmation step should
import ``agent.offline.nlu.entities`` instead. Delete this module once it does.
"""

from agent.offline.nlu.entities import is_affirmative, is_negative

__all__ = ["is_affirmative", "is_negative"]
