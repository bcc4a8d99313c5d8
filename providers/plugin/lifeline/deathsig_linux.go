package lifeline

import "syscall"

func setDeathSignal(sys *syscall.SysProcAttr) { sys.Pdeathsig = syscall.SIGTERM }
