// The kernel's user-space API headers bpstune speaks: the ethtool ioctl structures and command
// numbers (SIOCETHTOOL), from Debian's linux-libc-dev. Imported into Swift as they are, so that
// no structure layout is written by hand.
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
