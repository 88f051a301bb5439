// libnl-3 and libnl-genl-3 (Debian: libnl-3-dev, libnl-genl-3-dev): generic netlink sockets,
// family resolution, message building and attribute parsing, and the kernel's ethtool netlink
// attribute numbers.
#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <linux/ethtool_netlink.h>
