// rtnetlink(7): how tsrun makes bridges and veth pairs, gives addresses and routes, and deletes links. Each
// request is a message to the kernel on a NETLINK_ROUTE socket (a header, the message type's own struct, then
// attributes), acknowledged with 0 or an errno: what ip(8) sends, without starting ip. One function per
// message type, named after it (NewLink sends RTM_NEWLINK). The requests arrive as the plain objects src/net/ builds,
// {message: 'RTM_NEWLINK', IFLA_IFNAME: 'eth0', …} (src/kernel/syscalls.ts describes them); where the kernel
// wants an interface's index, they name the interface, and where it wants a namespace's fd, its file.
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <thread>
#include <vector>

namespace tsrun {

namespace {

// What failed, thrown inside this file and turned into a Node-shaped error at its edge (Rtnetlink and the dumps).
struct Failure {
  int err;
  std::string syscall;  // the message type ("RTM_NEWLINK"), or the system call that failed before it was sent
  std::string path;     // the interface or namespace file it was about
  std::string said;     // the kernel's own words, when it gave some (NETLINK_EXT_ACK)
};

// A message being built, in one fixed buffer so that pointers into it stay valid while attributes are added.
class Request {
 public:
  Request(uint16_t type, uint16_t flags) {
    Header()->nlmsg_len = NLMSG_HDRLEN;
    Header()->nlmsg_type = type;
    Header()->nlmsg_flags = NLM_F_REQUEST | flags;
  }
  nlmsghdr* Header() { return reinterpret_cast<nlmsghdr*>(buffer_); }

  // The message type's own struct (ifinfomsg, ifaddrmsg, rtmsg), zeroed; a veth peer's ifinfomsg too.
  template <typename T>
  T* Append() { return static_cast<T*>(Grow(sizeof(T))); }

  void Attr(uint16_t type, const void* data, size_t size) {
    rtattr* attr = static_cast<rtattr*>(Grow(RTA_LENGTH(size)));
    attr->rta_type = type;
    attr->rta_len = RTA_LENGTH(size);
    memcpy(RTA_DATA(attr), data, size);
  }
  void Attr(uint16_t type, uint32_t value) { Attr(type, &value, sizeof(value)); }
  void Attr(uint16_t type, const std::string& text) { Attr(type, text.c_str(), text.size() + 1); }

  // Attributes inside an attribute (IFLA_LINKINFO holds IFLA_INFO_KIND, …): its length is known at End.
  size_t Begin(uint16_t type) {
    size_t at = Header()->nlmsg_len;
    static_cast<rtattr*>(Grow(RTA_LENGTH(0)))->rta_type = type;
    return at;
  }
  void End(size_t at) { reinterpret_cast<rtattr*>(buffer_ + at)->rta_len = Header()->nlmsg_len - at; }

 private:
  void* Grow(size_t size) {
    size_t at = NLMSG_ALIGN(Header()->nlmsg_len);
    if (at + NLMSG_ALIGN(size) > sizeof(buffer_)) throw Failure{EMSGSIZE, "rtnetlink", "", ""};
    memset(buffer_ + at, 0, NLMSG_ALIGN(size));
    Header()->nlmsg_len = at + NLMSG_ALIGN(size);
    return buffer_ + at;
  }
  alignas(NLMSG_ALIGNTO) char buffer_[4096] = {};
};

// A file descriptor closed when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int fd) : fd(fd) {}
  Fd(Fd&& other) : fd(other.fd) { other.fd = -1; }
  Fd(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

class RouteSocket {
 public:
  explicit RouteSocket(int fd) : fd_(fd) {}

  // Sends the request and reads the answers up to its acknowledgement (or a dump's end), each other message to
  // `reply`; a refusal throws, named after the message and what it was about.
  void Exchange(Request& request, const char* message, const std::string& about,
                const std::function<void(const nlmsghdr*)>& reply = nullptr) {
    request.Header()->nlmsg_seq = ++seq_;
    sockaddr_nl kernel = {};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd_.fd, request.Header(), request.Header()->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) {
      throw Failure{errno, "sendto", about, ""};
    }
    alignas(NLMSG_ALIGNTO) char answers[32 * 1024];  // netlink puts at most 32 KiB of a dump in one answer
    for (;;) {
      ssize_t got = recv(fd_.fd, answers, sizeof(answers), 0);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw Failure{errno, "recv", about, ""};
      for (auto* answer = reinterpret_cast<nlmsghdr*>(answers); NLMSG_OK(answer, (size_t)got); answer = NLMSG_NEXT(answer, got)) {
        if (answer->nlmsg_seq != seq_) continue;  // an answer to an earlier request
        if (answer->nlmsg_type == NLMSG_DONE) return;
        if (answer->nlmsg_type != NLMSG_ERROR) {
          if (reply) reply(answer);
          continue;
        }
        auto* ack = static_cast<nlmsgerr*>(NLMSG_DATA(answer));
        if (ack->error == 0) return;
        throw Failure{-ack->error, message, about, KernelSaid(answer)};
      }
    }
  }

 private:
  // NETLINK_EXT_ACK: after the error and (NETLINK_CAP_ACK) the request's bare header, attributes, among them
  // the kernel's explanation ("Nexthop has invalid gateway").
  static std::string KernelSaid(const nlmsghdr* answer) {
    if (!(answer->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
    size_t at = NLMSG_HDRLEN + sizeof(nlmsgerr);
    while (at + sizeof(nlattr) <= answer->nlmsg_len) {
      auto* attr = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(answer) + at);
      if (attr->nla_len < sizeof(nlattr) || at + attr->nla_len > answer->nlmsg_len) break;
      if (attr->nla_type == NLMSGERR_ATTR_MSG) return std::string(reinterpret_cast<const char*>(attr) + NLA_HDRLEN);
      at += NLA_ALIGN(attr->nla_len);
    }
    return "";
  }
  Fd fd_;
  uint32_t seq_ = 0;
};

// socket(AF_NETLINK, NETLINK_ROUTE) in the calling thread's network namespace.
int RouteSocketFd() {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) throw Failure{errno, "socket", "NETLINK_ROUTE", ""};
  int on = 1;
  // Short acknowledgements (without a copy of the request), and the kernel's words when it refuses one.
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
  return fd;
}

// #region socket-in-namespace
// A socket speaks to the network namespace it was made in, for its whole life. For a container's namespace, a
// short-lived thread joins it (setns(CLONE_NEWNET) changes the calling thread's namespace only), makes the socket
// there and ends: Node's own thread never leaves the host's namespace, and no thread of tsrun is left inside the
// container's to be reused unawares.
int RouteSocketIn(const std::string& netns) {
  int fd = -1;
  Failure failure{0, "", "", ""};
  std::thread([&] {
    Fd ns(open(netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (ns.fd < 0) {
      failure = {errno, "open", netns, ""};
    } else if (setns(ns.fd, CLONE_NEWNET) != 0) {
      failure = {errno, "setns", netns, ""};
    } else {
      try {
        fd = RouteSocketFd();
      } catch (const Failure& f) {
        failure = f;
      }
    }
  }).join();
  if (failure.err) throw failure;
  return fd;
}
// #endregion

uint32_t Number(const Napi::Object& m, const char* key) {
  Napi::Value value = m.Get(key);
  if (!value.IsNumber()) throw Napi::TypeError::New(m.Env(), std::string(key) + " must be a number");
  return value.As<Napi::Number>().Uint32Value();
}

in_addr Ipv4(const Napi::Object& m, const char* key) {
  in_addr address;
  if (inet_pton(AF_INET, StringProp(m, key).c_str(), &address) != 1) throw Napi::TypeError::New(m.Env(), std::string(key) + " must be an IPv4 address");
  return address;
}

// RTM_GETLINK for one interface, by name: its index, in the socket's namespace.
uint32_t LinkIndex(RouteSocket& sock, const std::string& name) {
  Request request(RTM_GETLINK, NLM_F_ACK);
  request.Append<ifinfomsg>()->ifi_family = AF_UNSPEC;
  request.Attr(IFLA_IFNAME, name);
  uint32_t index = 0;
  sock.Exchange(request, "RTM_GETLINK", name, [&](const nlmsghdr* answer) {
    index = static_cast<const ifinfomsg*>(NLMSG_DATA(answer))->ifi_index;
  });
  return index;
}

// A link's attributes, for itself or for a veth's peer: its name, MAC address, MTU, bridge (IFLA_MASTER),
// namespace (IFLA_NET_NS_FD, the file opened here and kept open in `opened` until the message is sent) and
// ifi_flags (IFF_UP).
void LinkAttrs(Request& request, ifinfomsg* ifi, RouteSocket& sock, const Napi::Object& m, std::vector<Fd>& opened) {
  request.Attr(IFLA_IFNAME, StringProp(m, "IFLA_IFNAME"));
  if (m.Has("IFLA_ADDRESS")) {
    unsigned char mac[6];
    std::string text = StringProp(m, "IFLA_ADDRESS");
    if (sscanf(text.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) != 6) {
      throw Napi::TypeError::New(m.Env(), "IFLA_ADDRESS must be a MAC address");
    }
    request.Attr(IFLA_ADDRESS, mac, sizeof(mac));
  }
  if (m.Has("IFLA_MTU")) request.Attr(IFLA_MTU, Number(m, "IFLA_MTU"));
  if (m.Has("IFLA_MASTER")) request.Attr(IFLA_MASTER, LinkIndex(sock, StringProp(m, "IFLA_MASTER")));
  if (m.Has("IFLA_NET_NS_FD")) {
    std::string netns = StringProp(m, "IFLA_NET_NS_FD");
    opened.emplace_back(open(netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (opened.back().fd < 0) throw Failure{errno, "open", netns, ""};
    request.Attr(IFLA_NET_NS_FD, (uint32_t)opened.back().fd);
  }
  if (m.Has("ifi_flags")) {
    for (const std::string& flag : StringArrayProp(m, "ifi_flags")) {
      if (flag != "IFF_UP") throw Napi::TypeError::New(m.Env(), "unknown flag " + flag);
      ifi->ifi_flags |= IFF_UP;
      ifi->ifi_change |= IFF_UP;  // only the flags named change
    }
  }
}

// #region newlink
// RTM_NEWLINK: with IFLA_INFO_KIND, a new link (a bridge, or a veth pair whose peer is described in
// VETH_INFO_PEER, within IFLA_INFO_DATA); without, a change to the link named IFLA_IFNAME.
void NewLink(RouteSocket& sock, const Napi::Object& m) {
  bool create = m.Has("IFLA_INFO_KIND");
  Request request(RTM_NEWLINK, NLM_F_ACK | (create ? NLM_F_CREATE | NLM_F_EXCL : 0));
  ifinfomsg* ifi = request.Append<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  std::vector<Fd> opened;
  LinkAttrs(request, ifi, sock, m, opened);
  if (create) {
    size_t linkinfo = request.Begin(IFLA_LINKINFO);
    request.Attr(IFLA_INFO_KIND, StringProp(m, "IFLA_INFO_KIND"));
    if (m.Has("VETH_INFO_PEER")) {
      size_t data = request.Begin(IFLA_INFO_DATA);
      size_t peer = request.Begin(VETH_INFO_PEER);
      ifinfomsg* peerIfi = request.Append<ifinfomsg>();  // the peer is a link message of its own
      peerIfi->ifi_family = AF_UNSPEC;
      LinkAttrs(request, peerIfi, sock, m.Get("VETH_INFO_PEER").As<Napi::Object>(), opened);
      request.End(peer);
      request.End(data);
    }
    request.End(linkinfo);
  }
  sock.Exchange(request, "RTM_NEWLINK", StringProp(m, "IFLA_IFNAME"));
}
// #endregion

// RTM_NEWADDR: an IPv4 address on a link, IFA_LOCAL with ifa_prefixlen; the route to its subnet comes with it.
void NewAddr(RouteSocket& sock, const Napi::Object& m) {
  Request request(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  ifaddrmsg* ifa = request.Append<ifaddrmsg>();
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = Number(m, "ifa_prefixlen");
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  std::string link = StringProp(m, "ifa_index");
  ifa->ifa_index = LinkIndex(sock, link);
  in_addr local = Ipv4(m, "IFA_LOCAL");
  request.Attr(IFA_LOCAL, &local, sizeof(local));
  sock.Exchange(request, "RTM_NEWADDR", link);
}

// RTM_NEWROUTE: the default route (rtm_dst_len 0: every destination) through RTA_GATEWAY, in the main table.
void NewRoute(RouteSocket& sock, const Napi::Object& m) {
  Request request(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  rtmsg* rt = request.Append<rtmsg>();
  rt->rtm_family = AF_INET;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;  // what ip(8) marks the routes it adds with
  rt->rtm_scope = RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  in_addr gateway = Ipv4(m, "RTA_GATEWAY");
  request.Attr(RTA_GATEWAY, &gateway, sizeof(gateway));
  sock.Exchange(request, "RTM_NEWROUTE", StringProp(m, "RTA_GATEWAY"));
}

// RTM_DELLINK: the link named IFLA_IFNAME (a veth's peer goes with it); ENODEV when there is none.
void DelLink(RouteSocket& sock, const Napi::Object& m) {
  Request request(RTM_DELLINK, NLM_F_ACK);
  request.Append<ifinfomsg>()->ifi_family = AF_UNSPEC;
  request.Attr(IFLA_IFNAME, StringProp(m, "IFLA_IFNAME"));
  sock.Exchange(request, "RTM_DELLINK", StringProp(m, "IFLA_IFNAME"));
}

// Runs `work`, turning a Failure into the error Node's own system calls throw: {code, errno, syscall, path}.
template <typename Work>
Napi::Value Reporting(Napi::Env env, Work work) {
  try {
    return work();
  } catch (const Failure& failure) {
    try {
      ThrowErrno(env, failure.err, failure.syscall.c_str(), failure.path);
    } catch (Napi::Error& error) {
      if (!failure.said.empty()) error.Set("message", error.Message() + ": " + failure.said);
      throw;
    }
  }
}

// rtnetlink({netns?, messages}): the messages in order on one socket, in the host's network namespace or in
// the one kept at the file `netns`; each is acknowledged before the next is sent, and the first refusal throws.
Napi::Value Rtnetlink(const Napi::CallbackInfo& info) {
  if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "rtnetlink takes {netns?, messages}");
  Napi::Object batch = info[0].As<Napi::Object>();
  return Reporting(info.Env(), [&] {
    RouteSocket sock(batch.Has("netns") ? RouteSocketIn(StringProp(batch, "netns")) : RouteSocketFd());
    Napi::Array messages = batch.Get("messages").As<Napi::Array>();
    for (uint32_t i = 0; i < messages.Length(); i++) {
      Napi::Object m = messages.Get(i).As<Napi::Object>();
      std::string type = StringProp(m, "message");
      if (type == "RTM_NEWLINK") NewLink(sock, m);
      else if (type == "RTM_NEWADDR") NewAddr(sock, m);
      else if (type == "RTM_NEWROUTE") NewRoute(sock, m);
      else if (type == "RTM_DELLINK") DelLink(sock, m);
      else throw Napi::TypeError::New(info.Env(), "unknown rtnetlink message " + type);
    }
    return info.Env().Undefined();
  });
}

// rtnetlink_getlink(): RTM_GETLINK dump, [{index, ifname, mtu}]
Napi::Value RtnetlinkGetlink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Reporting(env, [&] {
    RouteSocket sock(RouteSocketFd());
    Napi::Array links = Napi::Array::New(env);
    Request request(RTM_GETLINK, NLM_F_DUMP);
    request.Append<ifinfomsg>()->ifi_family = AF_UNSPEC;
    sock.Exchange(request, "RTM_GETLINK", "", [&](const nlmsghdr* answer) {
      auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(answer));
      Napi::Object link = Napi::Object::New(env);
      link.Set("index", ifi->ifi_index);
      int size = IFLA_PAYLOAD(answer);
      for (auto* attr = IFLA_RTA(ifi); RTA_OK(attr, size); attr = RTA_NEXT(attr, size)) {
        if (attr->rta_type == IFLA_IFNAME) link.Set("ifname", static_cast<const char*>(RTA_DATA(attr)));
        if (attr->rta_type == IFLA_MTU) link.Set("mtu", *static_cast<const uint32_t*>(RTA_DATA(attr)));
      }
      links.Set(links.Length(), link);
    });
    return Napi::Value(links);
  });
}

// rtnetlink_getroute(): RTM_GETROUTE dump of the main table's IPv4 routes, [{dst: 'default' | 'A.B.C.D/N', oif}]
// (oif: the index of the link the route leaves by, 0 when it names none).
Napi::Value RtnetlinkGetroute(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Reporting(env, [&] {
    RouteSocket sock(RouteSocketFd());
    Napi::Array routes = Napi::Array::New(env);
    Request request(RTM_GETROUTE, NLM_F_DUMP);
    request.Append<rtmsg>()->rtm_family = AF_INET;
    sock.Exchange(request, "RTM_GETROUTE", "", [&](const nlmsghdr* answer) {
      auto* rt = static_cast<const rtmsg*>(NLMSG_DATA(answer));
      uint32_t table = rt->rtm_table, oif = 0;
      std::string dst = "default";
      int size = RTM_PAYLOAD(answer);
      for (auto* attr = RTM_RTA(rt); RTA_OK(attr, size); attr = RTA_NEXT(attr, size)) {
        if (attr->rta_type == RTA_TABLE) table = *static_cast<const uint32_t*>(RTA_DATA(attr));
        if (attr->rta_type == RTA_OIF) oif = *static_cast<const uint32_t*>(RTA_DATA(attr));
        if (attr->rta_type == RTA_DST) {
          char text[INET_ADDRSTRLEN];
          inet_ntop(AF_INET, RTA_DATA(attr), text, sizeof(text));
          dst = std::string(text) + "/" + std::to_string(rt->rtm_dst_len);
        }
      }
      if (table != RT_TABLE_MAIN) return;
      Napi::Object route = Napi::Object::New(env);
      route.Set("dst", dst);
      route.Set("oif", oif);
      routes.Set(routes.Length(), route);
    });
    return Napi::Value(routes);
  });
}

}  // namespace

Napi::Object InitNetlink(Napi::Env env, Napi::Object exports) {
  exports.Set("rtnetlink", Napi::Function::New(env, Rtnetlink, "rtnetlink"));
  exports.Set("rtnetlink_getlink", Napi::Function::New(env, RtnetlinkGetlink, "rtnetlink_getlink"));
  exports.Set("rtnetlink_getroute", Napi::Function::New(env, RtnetlinkGetroute, "rtnetlink_getroute"));
  return exports;
}

}  // namespace tsrun
