"""Assets: uploads, turning a stored upload into a decision, reading, delivering, overriding,
archiving, the audit log.
"""
