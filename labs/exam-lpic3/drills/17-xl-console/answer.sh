# xl console wants a terminal to type at: script(1) gives it one here, as a
# person's terminal would.  Type the line, read the answer, then Ctrl-]
# (the byte 0x1d) detaches.
{
    sleep 3
    printf 'exam ready\r'
    sleep 5
    printf '\035'
} | script -qec "xl console web" /dev/null
xl list web
