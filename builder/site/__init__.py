"""The crafts the lesson site is made with, outside its renderer (``builder.renderers.site``).

``guard`` keeps pages script-free, ``pages`` writes one page (template
filters, lesson bodies, the parts filled in late), ``images`` makes phone-sized
copies of images, ``offline`` writes the service worker's lists. None of them is
a renderer, so any renderer may use them.
"""
