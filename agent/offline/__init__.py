"""The offline model: a deterministic chat model that needs no API key or network.

- ``chat_model``: ``OfflineChatModel``, the LangChain ``BaseChatModel`` the graph runs;
- ``conversation``: the model's reading of its input messages (shopper turns, typed tool results);
- ``nlu``: understanding the shopper (trained intent classifier, entities, typos, addresses);
- ``flows``: what to do next, one module per intent plus the shared opening step and replies.

This package deliberately imports nothing so that ``import agent.offline`` stays cheap
(scikit-learn is only loaded by ``agent.offline.nlu.classifier``).
"""
