// The seed's React client (App.tsx's useEffect, createOffer, createAnswer), ported to plain JS
// with nothing changed but what the seed hard-codes:
//   ?server=URL   signaling server (seed: http://localhost:8080; default here: this page's origin)
//   ?room=NAME    room (seed: "1234")
//   ?name=EMAIL   the `email` sent in join_room (seed: "sample@naver.com")
//   ?stun=URL     a STUN server (seed: stun:stun.l.google.com:19302; default here: none, so tests
//                 never reach outside hosts)
// The React state setters (setSocket/setPc) and refs become plain variables and element lookups.
'use strict';

(function () {
  const params = new URLSearchParams(window.location.search);
  const server = params.get('server') || window.location.origin;
  const room = params.get('room') || '1234';
  const email = params.get('name') || 'sample@naver.com';
  const stun = params.get('stun');

  const localVideoRef = { current: document.getElementById('localvideo') };
  const remoteVideoRef = { current: document.getElementById('remotevideo') };
  // React sets `muted` as a property; mirror it so the local preview never plays sound.
  localVideoRef.current.muted = true;

  const pc_config = {
    iceServers: stun ? [{ urls: stun }] : [],
  };

  let newSocket = io.connect(server);
  let newPC = new RTCPeerConnection(pc_config);

  newSocket.on('all_users', (allUsers) => {
    let len = allUsers.length;
    if (len > 0) {
      createOffer();
    }
  });

  newSocket.on('getOffer', (sdp) => {
    //console.log(sdp);
    console.log('get offer');
    createAnswer(sdp);
  });

  newSocket.on('getAnswer', (sdp) => {
    console.log('get answer');
    newPC.setRemoteDescription(new RTCSessionDescription(sdp));
    //console.log(sdp);
  });

  newSocket.on('getCandidate', (candidate) => {
    newPC.addIceCandidate(new RTCIceCandidate(candidate)).then(() => {
      console.log('candidate add success');
    });
  });

  navigator.mediaDevices
    .getUserMedia({
      video: true,
      audio: true,
    })
    .then((stream) => {
      if (localVideoRef.current) localVideoRef.current.srcObject = stream;

      stream.getTracks().forEach((track) => {
        newPC.addTrack(track, stream);
      });
      newPC.onicecandidate = (e) => {
        if (e.candidate) {
          console.log('onicecandidate');
          newSocket.emit('candidate', e.candidate);
        }
      };
      newPC.oniceconnectionstatechange = (e) => {
        console.log(e);
      };
      newPC.ontrack = (ev) => {
        console.log('add remotetrack success');
        if (remoteVideoRef.current) remoteVideoRef.current.srcObject = ev.streams[0];
      };

      newSocket.emit('join_room', {
        room: room,
        email: email,
      });
    })
    .catch((error) => {
      console.log(`getUserMedia error: ${error}`);
    });

  const createOffer = () => {
    console.log('create offer');
    newPC
      .createOffer({ offerToReceiveAudio: true, offerToReceiveVideo: true })
      .then((sdp) => {
        newPC.setLocalDescription(new RTCSessionDescription(sdp));
        newSocket.emit('offer', sdp);
      })
      .catch((error) => {
        console.log(error);
      });
  };

  const createAnswer = (sdp) => {
    newPC.setRemoteDescription(new RTCSessionDescription(sdp)).then(() => {
      console.log('answer set remote description success');
      newPC
        .createAnswer({
          offerToReceiveVideo: true,
          offerToReceiveAudio: true,
        })
        .then((sdp1) => {
          console.log('create answer');
          newPC.setLocalDescription(new RTCSessionDescription(sdp1));
          newSocket.emit('answer', sdp1);
        })
        .catch((error) => {
          console.log(error);
        });
    });
  };
})();
