"""The understanding side of the offline model: what the shopper's words say.

- ``classifier``: the trained intent classifier (TF-IDF + logistic regression), cached;
- ``intents`` and ``bitext``: intent labels and the training data (own utterances under
  ``data/utterances``, the mapped Bitext set); ``evaluate`` scores the classifier on held-out data;
- ``typos``: one-slip corrections of support key words before classification;
- ``entities``: order numbers, emails, tracking numbers, amounts, items, yes/no, order-change kind,
  multi-request splitting; ``order_numbers`` and ``address`` read them the way a support chat means
  them (a bare number after "from", a complete shipping address);
- ``language``: intents per clause, follow-ups, small talk, over a conversation;
- ``intent_result``: the ``IntentResult`` structured output for the latest message.

Nothing here decides what to do: that is ``agent.offline.flows``.
"""
