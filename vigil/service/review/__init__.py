"""Human review: queues, items, appeals, the people who review and their accounts, dashboard
figures.
"""
