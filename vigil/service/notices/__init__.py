"""Notices that leave vigil when events happen: webhooks, alert e-mail, SNS-shaped job
notifications.
"""
