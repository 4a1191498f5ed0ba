"""Pure helpers for telling whether two customers are the same: names, domains, similarity.

A leaf package: it imports nothing of partnerbot's, so the domain (`bot.domain.conflicts`)
and the CRM adapters (`crm.salesforce`) can both use it without either reaching into the
other.
"""
