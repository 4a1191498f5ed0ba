"""CRM write-back: one interface, adapters for the local store, HubSpot and Salesforce."""
