"""The offline model's language understanding: a trained intent classifier and entity extraction.

Everything here runs without an API key or network access. Import the submodules you need
(``agent.offline.classifier``, ``agent.offline.entities`` ...); this package deliberately imports
nothing so that ``import agent.offline`` stays cheap (scikit-learn is only loaded by the classifier).
"""
