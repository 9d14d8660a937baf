"""The bus between workers: ordered room logs, run streams and worker presence, over Redis.

Used only when SESSION_VISUALIZER_REDIS_URL is set; one process needs none of it. It may import
nothing of ours: the classroom and the web give it JSON and get JSON back.
"""
