"""What the offline model does next, one flow per intent.

``dispatch.decide`` picks the flow from the tools bound to the call and runs it. Every order flow
starts with the shared ``opening`` step (who the shopper is, which order they mean, the order looked
up); ``step_up`` holds back an action until a one-time code is confirmed. The flows: ``wismo``,
``returns``, ``refunds``, ``order_change`` (cancel or change the address), ``escalation`` and
``other`` (small talk, out of scope). ``common`` holds the replies they share (refusals, declines,
handing over), ``formatting`` and ``templates`` the wording (``prompts/offline/*.md``), and
``situation`` the types a step reads and returns.
"""
