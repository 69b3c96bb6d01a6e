echo 'on_crash = "restart"' >>flaky.cfg
xl create flaky.cfg
sleep 2
xl list
xl dmesg | tail -n 3
