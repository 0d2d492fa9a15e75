"""Date formats that name the day in full and end without a full stop (Django's English
"Dec. 1, 2026, 7:13 a.m." ends a sentence twice; its Korean puts 오전 after the time). The
time zone's abbreviation follows the time, since the server's zone is not the reader's."""
