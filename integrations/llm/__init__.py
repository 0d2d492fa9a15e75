"""AI steps (app ``llm``) and the model providers they call through API-key connections."""
