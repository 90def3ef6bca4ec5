"""The desks (« l'accueil ») of each commune: ``/contact`` and the staff page that keeps it."""
