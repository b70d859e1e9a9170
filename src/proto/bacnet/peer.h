/*
 * peer.h - the address of a BACnet station as the stack and the server
 * see it: the B/IP address the datagram came from (or goes to) and, for a
 * station behind a BACnet router (an MS/TP VAV controller), its network
 * number and MAC from the NPDU's SNET/SADR (clause 6.2.2).
 */
#ifndef SB_BAC_PEER_H
#define SB_BAC_PEER_H

#include <stdint.h>

#include "proto/bacnet/codec/npdu.h"

struct sb_bac_peer {
    uint32_t ip;               /* IPv4, network byte order */
    uint16_t port;             /* UDP port, network byte order */
    struct sb_bac_addr addr;   /* remote station: net 0 = on our own network
                                  (no DNET needed); else DNET/DADR via the
                                  router at ip:port */
};

#endif /* SB_BAC_PEER_H */
