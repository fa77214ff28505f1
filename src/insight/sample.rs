//! One reading of a call's stats: the selected route, the instantaneous values (RTT, jitter,
//! resolution, codecs) and the running counters that rates and loss are computed from between two
//! readings ([`super::stats`]). Parsed from [`Record`]s, with the differences between Chromium
//! and Firefox kept here: Chromium names the selected pair on its `transport` entry, Firefox marks
//! the pair `selected`; Chromium reports the pair's `currentRoundTripTime`, Firefox only the RTCP
//! `roundTripTime` of `remote-inbound-rtp`.

use super::record::{EntryType, Num, Record, Text};

/// An ICE candidate's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateType {
    /// An address of this machine: direct, same network.
    Host,
    /// The address a STUN server saw (behind NAT).
    Srflx,
    /// An address learnt from the other side's checks.
    Prflx,
    /// Through a TURN server.
    Relay,
}

impl CandidateType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "host" => Self::Host,
            "srflx" | "serverreflexive" => Self::Srflx,
            "prflx" | "peerreflexive" => Self::Prflx,
            "relay" | "relayed" => Self::Relay,
            _ => return None,
        })
    }

    /// The name `#stats[data-route]` and the panel show.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::Srflx => "srflx",
            Self::Prflx => "prflx",
            Self::Relay => "relay",
        }
    }
}

/// `udp`, `tcp` or `tls` (a relay's protocol), as the browser names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP (TURN only).
    Tls,
}

impl Transport {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "udp" => Self::Udp,
            "tcp" => Self::Tcp,
            "tls" => Self::Tls,
            _ => return None,
        })
    }

    /// Its lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
            Self::Tls => "tls",
        }
    }
}

/// The route media takes: the selected candidate pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// This side's candidate type (what `#stats[data-route]` shows).
    pub local: Option<CandidateType>,
    /// The other side's.
    pub remote: Option<CandidateType>,
    /// The local candidate's transport.
    pub transport: Option<Transport>,
    /// For a relay candidate, how it reaches the TURN server.
    pub relay: Option<Transport>,
}

/// A picture's size and rate.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Picture {
    /// Width in pixels.
    pub width: Option<f64>,
    /// Height in pixels.
    pub height: Option<f64>,
    /// Frames per second.
    pub fps: Option<f64>,
}

/// Running counters summed over the RTP streams of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Counters {
    /// Payload bytes (`bytesReceived` / `bytesSent`).
    pub bytes: Option<f64>,
    /// Packets received / sent.
    pub packets: Option<f64>,
    /// Packets lost: here for what comes in, at the other side (RTCP) for what goes out.
    pub lost: Option<f64>,
}

impl Counters {
    fn add(&mut self, bytes: Option<f64>, packets: Option<f64>, lost: Option<f64>) {
        fn sum(a: &mut Option<f64>, b: Option<f64>) {
            if let Some(b) = b {
                *a = Some(a.unwrap_or(0.0) + b);
            }
        }
        sum(&mut self.bytes, bytes);
        sum(&mut self.packets, packets);
        sum(&mut self.lost, lost);
    }
}

/// One parsed reading. See the module documentation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sample {
    /// The report's time in milliseconds (the latest RTP entry's timestamp).
    pub at_ms: Option<f64>,
    /// The selected pair; `None` before ICE selected one.
    pub route: Option<Route>,
    /// Round-trip time in seconds.
    pub rtt_s: Option<f64>,
    /// The largest jitter of the incoming streams, in seconds.
    pub jitter_s: Option<f64>,
    /// Incoming counters.
    pub inbound: Counters,
    /// Outgoing counters (`lost` from the other side's reports).
    pub outbound: Counters,
    /// The other side's latest loss fraction (0..1) for what this side sends, the worst stream.
    pub fraction_lost_out: Option<f64>,
    /// The picture received.
    pub video_in: Picture,
    /// The picture sent.
    pub video_out: Picture,
    /// Audio codec (MIME subtype, e.g. `opus`), received or else sent.
    pub audio_codec: Option<String>,
    /// Video codec (e.g. `VP8`), received or else sent.
    pub video_codec: Option<String>,
}

fn max(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

impl Sample {
    /// Parses one report's records.
    pub fn parse(records: &[Record]) -> Self {
        let by_id = |ty: EntryType, id: Option<&str>| {
            id.and_then(|id| {
                records
                    .iter()
                    .find(|r| r.ty == ty && r.text(Text::Id) == Some(id))
            })
        };
        let codec = |r: &Record| {
            by_id(EntryType::Codec, r.text(Text::CodecId))
                .and_then(|c| c.text(Text::MimeType))
                .map(|m| m.split_once('/').map_or(m, |(_, sub)| sub).to_owned())
        };

        let pair = records
            .iter()
            .filter(|r| r.ty == EntryType::Transport)
            .find_map(|t| {
                by_id(
                    EntryType::CandidatePair,
                    t.text(Text::SelectedCandidatePairId),
                )
            })
            .or_else(|| {
                let pairs = || records.iter().filter(|r| r.ty == EntryType::CandidatePair);
                pairs().find(|p| p.flag(Num::Selected)).or_else(|| {
                    pairs().find(|p| {
                        p.flag(Num::Nominated) && p.text(Text::State) == Some("succeeded")
                    })
                })
            });

        let mut s = Self::default();
        if let Some(pair) = pair {
            let local = by_id(EntryType::LocalCandidate, pair.text(Text::LocalCandidateId));
            let remote = by_id(
                EntryType::RemoteCandidate,
                pair.text(Text::RemoteCandidateId),
            );
            let ty = |c: Option<&Record>| {
                c.and_then(|c| c.text(Text::CandidateType))
                    .and_then(CandidateType::parse)
            };
            s.route = Some(Route {
                local: ty(local),
                remote: ty(remote),
                transport: local
                    .and_then(|c| c.text(Text::Protocol))
                    .and_then(Transport::parse),
                relay: local
                    .filter(|_| ty(local) == Some(CandidateType::Relay))
                    .and_then(|c| c.text(Text::RelayProtocol))
                    .and_then(Transport::parse),
            });
            s.rtt_s = pair.num(Num::CurrentRoundTripTime);
        }

        let mut rtcp_rtt = None;
        for r in records {
            let video = r.is_video();
            match r.ty {
                EntryType::InboundRtp => {
                    s.at_ms = max(s.at_ms, r.num(Num::Timestamp));
                    s.jitter_s = max(s.jitter_s, r.num(Num::Jitter));
                    s.inbound.add(
                        r.num(Num::BytesReceived),
                        r.num(Num::PacketsReceived),
                        r.num(Num::PacketsLost),
                    );
                    if video {
                        s.video_in = picture(r);
                        s.video_codec = codec(r).or(s.video_codec.take());
                    } else {
                        s.audio_codec = codec(r).or(s.audio_codec.take());
                    }
                }
                EntryType::OutboundRtp => {
                    s.at_ms = max(s.at_ms, r.num(Num::Timestamp));
                    s.outbound
                        .add(r.num(Num::BytesSent), r.num(Num::PacketsSent), None);
                    if video {
                        s.video_out = picture(r);
                        s.video_codec = s.video_codec.take().or_else(|| codec(r));
                    } else {
                        s.audio_codec = s.audio_codec.take().or_else(|| codec(r));
                    }
                }
                EntryType::RemoteInboundRtp => {
                    s.outbound.add(None, None, r.num(Num::PacketsLost));
                    s.fraction_lost_out = max(s.fraction_lost_out, r.num(Num::FractionLost));
                    rtcp_rtt = max(rtcp_rtt, r.num(Num::RoundTripTime));
                }
                _ => {}
            }
        }
        s.rtt_s = s.rtt_s.or(rtcp_rtt);
        s
    }
}

fn picture(r: &Record) -> Picture {
    Picture {
        width: r.num(Num::FrameWidth),
        height: r.num(Num::FrameHeight),
        fps: r.num(Num::FramesPerSecond),
    }
}
