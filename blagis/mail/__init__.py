"""E-mail through a transactional outbox.

Queueing (``queue_mail``) writes a row in the transaction of the change that causes the mail;
the ``send-mail`` worker (``blagis.mail.worker``) delivers rows later over SMTP. Nothing here
talks to a mail server inside a request.
"""

from blagis.mail.queue import NON_ESSENTIAL, queue_mail, wants

__all__ = ["NON_ESSENTIAL", "queue_mail", "wants"]
